import { createHash } from 'node:crypto';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import type { EventPublisher, EventSubscriber } from '../platform/event-bus.js';
import type { RecordingEvents } from '../recording/events.js';
import type { SessionRow as BatchSessionRow } from './batches.js';
import type { BatchEvents } from './events.js';
import type { Logger } from '../platform/logger.js';
import type { FootageStore } from '../recording/footage-store.js';
import type { SpoolReport } from '../recording/spool-board.js';
import { HEALTHY_STATUSES } from '../sites/sites.js';
import type { CameraRepository } from '../ingest/camera-repository.js';
import type { CoverageRepository } from '../sites/coverage-repository.js';
import type { SiteRepository } from '../sites/site-repository.js';
import type { CameraReadiness, Readiness } from './schemas.js';

export interface ReadinessOptions {
  clockSkewLimitMs: number;
  spoolMinFreeMb: number;
  leadMinutes: number;
  /** The spools of the ingest processes, where footage is written. */
  spools: () => Promise<SpoolReport[]>;
}

/** What readiness asks other modules: zones and coverage (sites), camera status and health (ingest). */
export interface ReadinessOwners {
  sites: Pick<SiteRepository, 'zonesOfSite'>;
  coverage: Pick<CoverageRepository, 'currentCameras'>;
  cameras: Pick<CameraRepository, 'conditions'>;
}

/** A session with its unit, as readiness reads it. */
type SessionRow = Omit<BatchSessionRow, 'supervisor_ids'> & { unit_id: string };

/**
 * Whether a session can start under supervision: every zone covered by a healthy camera, pictures
 * passing, camera clocks right, storage writable and the spool not under pressure.
 */
export class ReadinessService {
  private readonly activeFaults = new Map<string, string>();
  private readonly stops: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly store: FootageStore,
    private readonly events: EventPublisher<BatchEvents> & EventSubscriber<RecordingEvents>,
    private readonly clock: Clock,
    private readonly opts: ReadinessOptions,
    private readonly log: Logger,
    private readonly owners: ReadinessOwners,
  ) {}

  /** Follows service faults; on a worker, also checks upcoming sessions every `scheduleMs`. */
  async start(scheduleMs?: number): Promise<void> {
    // Service faults come from whichever process has the recorder; remember the ones still active.
    this.stops.push(
      this.events.on('service.fault', (f) => {
        if (f.active) this.activeFaults.set(f.kind, f.detail ?? f.kind);
        else this.activeFaults.delete(f.kind);
      }),
    );
    if (scheduleMs) this.stops.push(this.schedule(scheduleMs));
  }

  async close(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
  }

  /** Readiness of the batch's next session (the one running now or starting next); null when all are over. */
  async forBatch(batchId: string): Promise<Readiness | null> {
    const [session] = await this.db.query<SessionRow>(
      `SELECT s.*, b.unit_id FROM batch_sessions s JOIN batches b ON b.id = s.batch_id
       WHERE s.batch_id = $1 AND s.ends_at > $2 ORDER BY s.starts_at, s.id LIMIT 1`,
      [batchId, this.clock.now()],
    );
    return session ? this.forSession(session) : null;
  }

  async forSession(session: SessionRow): Promise<Readiness> {
    const { sites, coverage, cameras: registry } = this.owners;
    const zones = await sites.zonesOfSite(
      session.site_id,
      session.zone_ids?.length ? session.zone_ids : null,
    );
    const current = await coverage.currentCameras(zones.map((z) => z.id));
    // Cameras not removed, oldest first, each with every zone it covers now.
    const assigned = (await registry.conditions([...new Set(current.map((a) => a.cameraId))])).flatMap((c) =>
      current.filter((a) => a.cameraId === c.id).map((a) => ({ ...c, zone_id: a.zoneId })),
    );
    const cameras = new Map<string, CameraReadiness>();
    for (const a of assigned) {
      if (cameras.has(a.id)) continue;
      const picture = a.health?.picture ?? 'unchecked';
      const skew = a.health?.clockSkewMs ?? null;
      const problems: string[] = [];
      if (!HEALTHY_STATUSES.includes(a.status)) problems.push(`camera ${a.name} is ${a.status}`);
      if (picture !== 'ok' && picture !== 'unchecked') problems.push(`camera ${a.name}: picture ${picture}`);
      if (skew !== null && Math.abs(skew) > this.opts.clockSkewLimitMs)
        problems.push(
          `camera ${a.name}: clock off by ${Math.round(skew)} ms (limit ${this.opts.clockSkewLimitMs} ms)`,
        );
      cameras.set(a.id, {
        cameraId: a.id,
        name: a.name,
        status: a.status,
        picture,
        clockSkewMs: skew,
        problems,
      });
    }
    const zoneViews = zones.map((z) => {
      const ids = [...new Set(assigned.filter((a) => a.zone_id === z.id).map((a) => a.id))];
      const healthy = ids.filter((id) => cameras.get(id)!.problems.length === 0);
      return {
        zoneId: z.id,
        name: z.name,
        covered: healthy.length > 0,
        cameraIds: ids,
        healthyCameraIds: healthy,
      };
    });
    const storage = await this.store.check().then(
      () => ({ ok: true, error: null as string | null }),
      (err: Error) => ({ ok: false, error: err.message }),
    );
    for (const [kind, detail] of this.activeFaults)
      if (/storage|upload/.test(kind)) {
        storage.ok = false;
        storage.error = storage.error ?? `${kind}: ${detail}`;
      }
    const spool = await this.spool();
    const problems = [
      ...zoneViews.filter((z) => !z.covered).map((z) => `zone ${z.name} has no healthy camera`),
      ...[...cameras.values()].flatMap((c) => c.problems),
      ...(storage.ok ? [] : [`storage is not writable: ${storage.error}`]),
      ...(spool.ok ? [] : [`spool under pressure: ${spool.faults.join('; ')}`]),
    ];
    return {
      sessionId: session.id,
      startsAt: session.starts_at.toISOString(),
      checkedAt: this.clock.now().toISOString(),
      ready: problems.length === 0,
      zones: zoneViews,
      cameras: [...cameras.values()],
      storage,
      spool,
      problems,
    };
  }

  /** Every ingest process's spool: enough free disk where footage is written, none under pressure. */
  private async spool(): Promise<Readiness['spool']> {
    const faults = [...this.activeFaults]
      .filter(([kind]) => /spool/.test(kind))
      .map(([k, d]) => `${k}: ${d}`);
    const pressureKnown = faults.length > 0;
    let freeMb: number | null = null;
    try {
      for (const r of await this.opts.spools()) {
        freeMb = freeMb === null ? r.freeMb : Math.min(freeMb, r.freeMb);
        if (r.freeMb < this.opts.spoolMinFreeMb)
          faults.push(
            `${r.freeMb} MB free for the spool on ${r.host} (minimum ${this.opts.spoolMinFreeMb} MB)`,
          );
        if (r.pressure && !pressureKnown) faults.push(`spool on ${r.host} is dropping old footage`);
      }
    } catch (err) {
      faults.push(`cannot read the spools' state: ${(err as Error).message}`);
    }
    return { ok: faults.length === 0, freeMb, faults };
  }

  /**
   * The periodic check: every session starting within the lead time is checked; a finding not yet
   * raised for that session is published as session.not_ready, and a session ready again clears it.
   */
  async checkUpcoming(): Promise<Readiness[]> {
    const now = this.clock.now();
    const sessions = await this.db.query<SessionRow>(
      `SELECT s.*, b.unit_id FROM batch_sessions s JOIN batches b ON b.id = s.batch_id
       WHERE s.starts_at > $1 AND s.starts_at <= $2 AND b.status NOT IN ('approved', 'rejected')
       ORDER BY s.starts_at, s.id`,
      [now, new Date(now.getTime() + this.opts.leadMinutes * 60_000)],
    );
    const results: Readiness[] = [];
    for (const s of sessions) {
      const r = await this.forSession(s);
      results.push(r);
      const fingerprint = r.ready
        ? 'ready'
        : createHash('sha256')
            .update(JSON.stringify([...r.problems].sort()))
            .digest('hex');
      const [last] = await this.db.query<{ fingerprint: string }>(
        'SELECT fingerprint FROM session_readiness_alerts WHERE session_id = $1 ORDER BY raised_at DESC LIMIT 1',
        [s.id],
      );
      if ((last?.fingerprint ?? 'ready') === fingerprint) continue;
      // The insert decides which process publishes when several workers check at once.
      const inserted = await this.db.query(
        `INSERT INTO session_readiness_alerts (session_id, fingerprint, problems, raised_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, fingerprint) DO UPDATE SET raised_at = EXCLUDED.raised_at
         WHERE session_readiness_alerts.raised_at < EXCLUDED.raised_at RETURNING session_id`,
        [s.id, fingerprint, JSON.stringify(r.problems), now],
      );
      if (inserted.length === 0) continue;
      await this.events.publish('session.not_ready', {
        batchId: s.batch_id,
        sessionId: s.id,
        siteId: s.site_id,
        unitId: s.unit_id,
        active: !r.ready,
        at: now.toISOString(),
        problems: r.problems,
      });
      this.log.info({ sessionId: s.id, ready: r.ready, problems: r.problems }, 'session readiness changed');
    }
    return results;
  }

  /** Runs checkUpcoming every interval until stopped. */
  private schedule(intervalMs: number): () => void {
    let running = false;
    const tick = () => {
      if (running) return;
      running = true;
      this.checkUpcoming()
        .catch((err: Error) => this.log.warn({ err: err.message }, 'readiness check failed'))
        .finally(() => (running = false));
    };
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    tick();
    return () => clearInterval(timer);
  }
}

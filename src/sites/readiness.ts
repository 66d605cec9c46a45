import { createHash } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import type { EventBus } from '../platform/event-bus.js';
import type { Logger } from '../platform/logger.js';
import type { FootageStore } from '../recording/footage-store.js';
import { HEALTHY_STATUSES } from './sites.js';

export interface CameraReadiness {
  cameraId: string;
  name: string;
  status: string;
  picture: string;
  clockSkewMs: number | null;
  problems: string[];
}

export interface Readiness {
  sessionId: string;
  startsAt: string;
  checkedAt: string;
  ready: boolean;
  zones: {
    zoneId: string;
    name: string;
    covered: boolean;
    cameraIds: string[];
    healthyCameraIds: string[];
  }[];
  cameras: CameraReadiness[];
  storage: { ok: boolean; error: string | null };
  spool: { ok: boolean; freeMb: number | null; faults: string[] };
  problems: string[];
}

export interface ReadinessOptions {
  clockSkewLimitMs: number;
  spoolMinFreeMb: number;
  dataDir: string;
  leadMinutes: number;
}

interface SessionRow {
  id: string;
  batch_id: string;
  site_id: string;
  zone_ids: string[] | null;
  starts_at: Date;
  ends_at: Date;
  unit_id: string;
}

/** The picture verdict in a camera's health, whichever shape the health monitor stores it in. */
function pictureOf(health: Record<string, unknown>): string {
  const p = health.picture;
  if (typeof p === 'string') return p;
  if (p && typeof p === 'object') {
    const o = p as Record<string, unknown>;
    const v = o.state ?? o.status ?? o.verdict;
    if (typeof v === 'string') return v;
  }
  return 'unchecked';
}

/**
 * Whether a session can start under supervision: every zone covered by a healthy camera, pictures
 * passing, camera clocks right, storage writable and the spool not under pressure.
 */
export class ReadinessService {
  private readonly activeFaults = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly store: FootageStore,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly opts: ReadinessOptions,
    private readonly log: Logger,
  ) {
    // Service faults come from whichever process has the recorder; remember the ones still active.
    events.on('service.fault', (f) => {
      if (f.active) this.activeFaults.set(f.kind, f.detail ?? f.kind);
      else this.activeFaults.delete(f.kind);
    });
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
    const zones = await this.db.query<{ id: string; name: string }>(
      `SELECT id, name FROM zones WHERE site_id = $1 AND ($2::text[] IS NULL OR id = ANY($2)) ORDER BY created_at, id`,
      [session.site_id, session.zone_ids?.length ? session.zone_ids : null],
    );
    const assigned = await this.db.query<{
      zone_id: string;
      id: string;
      name: string;
      status: string;
      health: Record<string, unknown>;
    }>(
      `SELECT cz.zone_id, c.id, c.name, c.status, c.health FROM camera_zones cz
       JOIN cameras c ON c.id = cz.camera_id AND c.deleted_at IS NULL
       WHERE cz.zone_id = ANY($1) AND cz.assigned_to IS NULL ORDER BY c.created_at, c.id`,
      [zones.map((z) => z.id)],
    );
    const cameras = new Map<string, CameraReadiness>();
    for (const a of assigned) {
      if (cameras.has(a.id)) continue;
      const picture = pictureOf(a.health ?? {});
      const skew = typeof a.health?.clockSkewMs === 'number' ? a.health.clockSkewMs : null;
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

  private async spool(): Promise<Readiness['spool']> {
    const faults = [...this.activeFaults]
      .filter(([kind]) => /spool/.test(kind))
      .map(([k, d]) => `${k}: ${d}`);
    let freeMb: number | null = null;
    try {
      const fs = await statfs(this.opts.dataDir);
      freeMb = Math.floor((fs.bavail * fs.bsize) / 2 ** 20);
      if (freeMb < this.opts.spoolMinFreeMb)
        faults.push(`${freeMb} MB free on the data disk (minimum ${this.opts.spoolMinFreeMb} MB)`);
    } catch (err) {
      faults.push(`cannot read free space: ${(err as Error).message}`);
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
  schedule(intervalMs: number): () => void {
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

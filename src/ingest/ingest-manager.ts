import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../../config/schema.js';
import type { Db } from '../platform/db.js';
import type { EventPublisher } from '../platform/event-bus.js';
import type { Logger } from '../platform/logger.js';
import type { Redis } from '../platform/redis.js';
import type { RedisKeys } from '../platform/redis-keys.js';
import type { StateChange } from './camera-state.js';
import { checkStoredStream, type NetworkPolicy } from './camera-address.js';
import type { IngestEvents } from './events.js';
import type { CameraRegistry, CameraRow } from './cameras.js';
import { CameraLeases } from './leases.js';
import type { OnvifClient, OnvifSession } from './onvif-client.js';
import { OnvifEvidence } from './onvif-evidence.js';
import type { GrayFrame } from './picture.js';
import type { ProcessSupervisor } from '../platform/processes.js';
import type { CameraSnapshots } from './snapshots.js';
import type { StreamOutputs } from './stream-outputs.js';
import { StreamSupervisor, type SupervisorSettings } from './stream-supervisor.js';

export interface IngestDeps {
  config: Config;
  log: Logger;
  db: Db;
  redis: Redis;
  keys: RedisKeys;
  events: EventPublisher<IngestEvents>;
  cameras: CameraRegistry;
  snapshots: CameraSnapshots;
  onvif: OnvifClient;
  processes: ProcessSupervisor;
  streamOutputs: StreamOutputs;
  networkPolicy: NetworkPolicy;
}

interface Owned {
  row: CameraRow;
  supervisor: StreamSupervisor;
  referenceAt: number | null;
  onvif: OnvifSession | null;
  evidence: OnvifEvidence;
  /** Status writes and events of one camera, in order. */
  chain: Promise<void>;
}

export function supervisorSettings(c: Config): SupervisorSettings {
  return {
    ffmpegPath: c.FFMPEG_PATH,
    ioTimeoutMs: c.RTSP_IO_TIMEOUT_MS,
    stallMs: c.STALL_TIMEOUT_MS,
    recoveryMs: c.RECOVERY_MS,
    reconnectMinMs: c.RECONNECT_MIN_MS,
    reconnectMaxMs: c.RECONNECT_MAX_MS,
    sample: { width: c.PICTURE_SAMPLE_WIDTH, height: c.PICTURE_SAMPLE_HEIGHT, fps: c.PICTURE_SAMPLE_FPS },
    pictureWarmupMs: c.PICTURE_WARMUP_MS,
    floors: { minHeight: c.FLOOR_MIN_HEIGHT, minFps: c.FLOOR_MIN_FPS, minKbps: c.FLOOR_MIN_KBPS },
    picture: {
      blackMaxLuma: c.PICTURE_BLACK_MAX_LUMA,
      coveredMinFlatShare: c.PICTURE_COVERED_MIN_FLAT,
      frozenNoiseRatio: c.PICTURE_FROZEN_NOISE_RATIO,
      blurMaxRatio: c.PICTURE_BLUR_RATIO,
      movedMinMatch: c.PICTURE_MOVED_MIN_MATCH,
      raiseAfter: c.PICTURE_RAISE_AFTER,
      clearAfter: c.PICTURE_CLEAR_AFTER,
      referenceAfterMs: c.PICTURE_REFERENCE_AFTER_MS,
    },
  };
}

/**
 * Pulls that start together (a restart, a site registered at once) are spread this far apart: 150
 * ffmpeg spawns, RTSP sessions and first database writes at one instant starved the event loop and
 * the database pool, and cameras that could not start in time stalled and restarted in a cascade.
 */
const PULL_START_SPACING_MS = 100;

/**
 * The ingest role: finds the cameras to supervise, takes a lease on its share of them, runs one
 * stream supervisor per owned camera, and persists and publishes what the supervisors observe.
 */
export class IngestManager {
  readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly leases: CameraLeases;
  private readonly owned = new Map<string, Owned>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly settings: SupervisorSettings;
  private polling: Promise<void> | null = null;
  private lastRenewOk = Date.now();
  private stopped = false;
  /** Automatic references being stored, in turn. */
  private references: Promise<void> = Promise.resolve();

  constructor(private readonly d: IngestDeps) {
    this.leases = new CameraLeases(d.redis, d.keys, this.owner, d.config.LEASE_MS);
    this.settings = supervisorSettings(d.config);
  }

  /** Cameras this process supervises now. */
  cameraIds(): string[] {
    return [...this.owned.keys()];
  }

  supervisor(cameraId: string): StreamSupervisor | undefined {
    return this.owned.get(cameraId)?.supervisor;
  }

  async start(): Promise<void> {
    const c = this.d.config;
    const every = (ms: number, fn: () => Promise<void> | void) => {
      const t = setInterval(
        () => void Promise.resolve(fn()).catch((err) => this.d.log.warn({ err }, 'ingest task failed')),
        ms,
      );
      this.timers.push(t);
    };
    await this.poll();
    every(c.INGEST_POLL_MS, () => this.poll());
    every(Math.max(200, Math.floor(c.LEASE_MS / 3)), () => this.renew());
    every(c.HEALTH_PERSIST_MS, () => this.persistHealth());
    every(c.CLOCK_CHECK_INTERVAL_MS, () => this.checkClocks());
    this.d.log.info({ owner: this.owner }, 'ingest started');
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    // A poll that failed (database unreachable) has been logged; stopping goes on regardless.
    await this.polling?.catch(() => undefined);
    await Promise.all([...this.owned.keys()].map((id) => this.release(id, true)));
    await this.references;
    await this.leases.leave().catch(() => undefined);
  }

  /** New, deleted and unowned cameras: take this process's share, drop what is gone. */
  poll(): Promise<void> {
    this.polling ??= this.doPoll().finally(() => (this.polling = null));
    return this.polling;
  }

  private async doPoll(): Promise<void> {
    if (this.stopped) return;
    const rows = await this.d.cameras.listActive();
    const live = new Set(rows.map((r) => r.id));
    for (const id of this.owned.keys()) if (!live.has(id)) await this.release(id, true);
    const members = await this.leases.heartbeat(Date.now());
    const share = Math.ceil(rows.length / members);
    // More than our share (another process joined): hand one camera back per poll.
    if (this.owned.size > share) {
      const [id] = this.owned.keys();
      if (id) await this.release(id, true);
    }
    let started = 0;
    for (const row of shuffle(rows.filter((r) => !this.owned.has(r.id)))) {
      if (this.stopped || this.owned.size >= share) break;
      if (await this.leases.acquire(row.id)) this.supervise(row, started++ * PULL_START_SPACING_MS);
    }
    await this.refreshReferences();
  }

  /** Starts supervising a camera; its first pull waits `delayMs` (pulls started together are spread). */
  private supervise(row: CameraRow, delayMs: number): void {
    const camera = { id: row.id, siteId: row.site_id, unitId: row.unit_id, name: row.name };
    const pullUrl = this.d.cameras.pullUrl(row);
    const supervisor = new StreamSupervisor(camera, pullUrl, this.settings, {
      processes: this.d.processes,
      outputs: this.d.streamOutputs,
      log: this.d.log,
      onChange: (changes) => this.onChange(owned, changes),
      checkAddress: () => checkStoredStream(this.d.networkPolicy, pullUrl),
      onReference: (frame) => void this.keepReference(owned, frame),
    });
    const owned: Owned = {
      row,
      referenceAt: null,
      onvif: null,
      evidence: new OnvifEvidence(row.id, supervisor, this.d.log),
      chain: Promise.resolve(),
      supervisor,
    };
    this.owned.set(row.id, owned);
    this.onChange(owned, [{ type: 'status', status: 'connecting', reason: null }]);
    // A supervisor released before its start never pulls (start after stop is a no-op).
    setTimeout(() => owned.supervisor.start(), delayMs).unref();
    void this.checkClock(owned);
    this.d.log.info({ camera: row.id, owner: this.owner }, 'supervising camera');
  }

  private async release(id: string, releaseLease: boolean): Promise<void> {
    const owned = this.owned.get(id);
    if (!owned) return;
    this.owned.delete(id);
    owned.evidence.stop();
    await owned.supervisor.stop();
    await owned.chain;
    if (releaseLease) await this.leases.release(id).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    const ids = [...this.owned.keys()];
    try {
      const kept = await this.leases.renew(ids);
      this.lastRenewOk = Date.now();
      for (const id of ids) {
        if (kept.has(id)) continue;
        this.d.log.warn({ camera: id }, 'camera lease lost: stopping its pull');
        await this.release(id, false);
      }
    } catch (err) {
      // Cannot renew: stop pulling before the lease can pass to another process.
      if (Date.now() - this.lastRenewOk > this.d.config.LEASE_MS * 0.6) {
        this.d.log.error({ err }, 'leases cannot be renewed: stopping every pull');
        await Promise.all(ids.map((id) => this.release(id, false)));
      }
    }
  }

  private onChange(owned: Owned, changes: StateChange[]): void {
    const at = new Date().toISOString();
    const { id, site_id: siteId, unit_id: unitId } = owned.row;
    owned.chain = owned.chain
      .then(async () => {
        // The status first: whoever hears of a fault finds the camera's status already saying so.
        const ordered = [...changes].sort(
          (a, b) => Number(b.type === 'status') - Number(a.type === 'status'),
        );
        for (const c of ordered) {
          if (c.type === 'status') {
            // A write lost to a busy database is repaired by the next health write; the event still goes.
            await this.d.db
              .query(
                `UPDATE cameras SET status = $2, status_reason = $3, status_changed_at = $4, health = $5 WHERE id = $1`,
                [id, c.status, c.reason, at, JSON.stringify(owned.supervisor.health())],
              )
              .catch((err: Error) =>
                this.d.log.warn(
                  { err: err.message, camera: id },
                  'camera status not saved; the next health write repairs it',
                ),
              );
            await this.d.events.publish('camera.status', {
              cameraId: id,
              siteId,
              unitId,
              status: c.status,
              reason: c.reason,
              at,
            });
          } else {
            await this.d.events.publish('camera.fault', {
              cameraId: id,
              siteId,
              unitId,
              kind: c.kind,
              active: c.active,
              at,
              ...(c.detail ? { detail: c.detail } : {}),
            });
          }
        }
      })
      .catch((err) => this.d.log.warn({ err, camera: id }, 'camera state not saved'));
  }

  /**
   * Every owned camera's health in one statement, whatever the number of cameras, with its current
   * status: a status change whose own write failed (pool exhausted under load) is repaired here.
   */
  private async persistHealth(): Promise<void> {
    const owned = [...this.owned.values()];
    if (owned.length === 0) return;
    await this.d.db.query(
      `UPDATE cameras c SET health = u.health::jsonb, status = u.status, status_reason = u.reason,
         status_changed_at = CASE WHEN c.status IS DISTINCT FROM u.status THEN now() ELSE c.status_changed_at END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(id, health, status, reason)
       WHERE c.id = u.id`,
      [
        owned.map((o) => o.row.id),
        owned.map((o) => JSON.stringify(o.supervisor.health())),
        owned.map((o) => o.supervisor.state.status),
        owned.map((o) => o.supervisor.state.reason),
      ],
    );
  }

  private async refreshReferences(): Promise<void> {
    const refs = await this.d.snapshots.references([...this.owned.keys()]);
    const byId = new Map(refs.map((r) => [r.cameraId, r]));
    for (const [id, o] of this.owned) {
      const ref = byId.get(id);
      const at = ref ? ref.takenAt.getTime() : null;
      if (at === o.referenceAt) continue;
      o.referenceAt = at;
      o.supervisor.setReference(ref?.frame ?? null);
    }
  }

  /**
   * Stores the reference the picture checks took by themselves, so the API shows it and others use it.
   * One at a time: cameras started together reach their reference together, and each store opens an
   * RTSP session for the JPEG and takes the audit chain's lock.
   */
  private keepReference(o: Owned, frame: GrayFrame): Promise<void> {
    this.references = this.references.then(() => this.storeReference(o, frame));
    return this.references;
  }

  private async storeReference(o: Owned, frame: GrayFrame): Promise<void> {
    if (this.stopped) return;
    try {
      const ref = await this.d.snapshots.keepAutoReference(o.row.id, frame);
      o.referenceAt = Date.parse(ref.takenAt);
      this.d.log.info({ camera: o.row.id }, 'reference picture taken');
    } catch (err) {
      // The checks keep using it; the next healthy stretch after a restart tries again.
      this.d.log.warn({ camera: o.row.id, err: (err as Error).message }, 'reference picture not stored');
    }
  }

  private async checkClocks(): Promise<void> {
    await Promise.all([...this.owned.values()].map((o) => this.checkClock(o)));
  }

  /**
   * ONVIF cameras: the camera clock against ours, its encoder settings and its analytics events
   * (RTSP-only cameras have none of these to read).
   */
  private async checkClock(o: Owned): Promise<void> {
    if (!o.row.onvif) return;
    try {
      if (!o.onvif) {
        const creds = this.d.cameras.credentials(o.row);
        o.onvif = await this.d.onvif.connect({
          host: o.row.onvif.host,
          port: o.row.onvif.port,
          username: creds.username ?? '',
          password: creds.password ?? '',
        });
      }
      const skew = await o.onvif.clockSkew();
      if (this.owned.get(o.row.id) !== o) return;
      o.supervisor.setClockSkew(skew, this.d.config.CLOCK_SKEW_LIMIT_MS);
      await o.evidence.refresh(o.onvif);
    } catch (err) {
      o.onvif = null;
      this.d.log.debug({ camera: o.row.id, err: (err as Error).message }, 'clock check failed');
    }
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

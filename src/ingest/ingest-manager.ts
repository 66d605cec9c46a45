import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Config } from '../../config/schema.js';
import type { Db } from '../platform/db.js';
import type { EventBus } from '../platform/event-bus.js';
import type { Logger } from '../platform/logger.js';
import type { Redis } from '../platform/redis.js';
import type { StateChange } from './camera-state.js';
import type { CameraRegistry, CameraRow } from './cameras.js';
import { CameraLeases } from './leases.js';
import type { OnvifClient, OnvifSession } from './onvif-client.js';
import type { ProcessSupervisor } from './process-supervisor.js';
import type { CameraSnapshots } from './snapshots.js';
import type { StreamOutputs } from './stream-outputs.js';
import { StreamSupervisor, type SupervisorSettings } from './stream-supervisor.js';

export interface IngestDeps {
  config: Config;
  log: Logger;
  db: Db;
  redis: Redis;
  events: EventBus;
  cameras: CameraRegistry;
  snapshots: CameraSnapshots;
  onvif: OnvifClient;
  processes: ProcessSupervisor;
  streamOutputs: StreamOutputs;
}

interface Owned {
  row: CameraRow;
  supervisor: StreamSupervisor;
  referenceAt: number | null;
  onvif: OnvifSession | null;
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
      coveredMaxLuma: c.PICTURE_COVERED_MAX_LUMA,
      coveredMinFlatShare: c.PICTURE_COVERED_MIN_FLAT,
      frozenTileDiff: c.PICTURE_FROZEN_TILE_DIFF,
      blurMaxRatio: c.PICTURE_BLUR_RATIO,
      movedMinCorrelation: c.PICTURE_MOVED_MIN_CORRELATION,
      raiseAfter: c.PICTURE_RAISE_AFTER,
      clearAfter: c.PICTURE_CLEAR_AFTER,
    },
  };
}

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

  constructor(private readonly d: IngestDeps) {
    this.leases = new CameraLeases(d.redis, `ess:${d.config.DATABASE_SCHEMA}`, this.owner, d.config.LEASE_MS);
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
    every(1000, () => this.publishHealth());
    every(c.HEALTH_PERSIST_MS, () => this.persistHealth());
    every(c.CLOCK_CHECK_INTERVAL_MS, () => this.checkClocks());
    this.d.log.info({ owner: this.owner }, 'ingest started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.polling;
    await Promise.all([...this.owned.keys()].map((id) => this.release(id, true)));
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
    for (const row of shuffle(rows.filter((r) => !this.owned.has(r.id)))) {
      if (this.stopped || this.owned.size >= share) break;
      if (await this.leases.acquire(row.id)) this.supervise(row);
    }
    await this.refreshReferences();
  }

  private supervise(row: CameraRow): void {
    const camera = { id: row.id, siteId: row.site_id, unitId: row.unit_id, name: row.name };
    const owned: Owned = {
      row,
      referenceAt: null,
      onvif: null,
      chain: Promise.resolve(),
      supervisor: new StreamSupervisor(camera, this.d.cameras.pullUrl(row), this.settings, {
        processes: this.d.processes,
        outputs: this.d.streamOutputs,
        log: this.d.log,
        onChange: (changes) => this.onChange(owned, changes),
      }),
    };
    this.owned.set(row.id, owned);
    this.onChange(owned, [{ type: 'status', status: 'connecting', reason: null }]);
    owned.supervisor.start();
    void this.checkClock(owned);
    this.d.log.info({ camera: row.id, owner: this.owner }, 'supervising camera');
  }

  private async release(id: string, releaseLease: boolean): Promise<void> {
    const owned = this.owned.get(id);
    if (!owned) return;
    this.owned.delete(id);
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
        for (const c of changes) {
          if (c.type === 'status') {
            await this.d.db.query(
              `UPDATE cameras SET status = $2, status_reason = $3, status_changed_at = $4, health = $5 WHERE id = $1`,
              [id, c.status, c.reason, at, JSON.stringify(owned.supervisor.health())],
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

  private async publishHealth(): Promise<void> {
    const at = new Date().toISOString();
    await Promise.all(
      [...this.owned.values()].map((o) =>
        this.d.events.publish('camera.health', {
          cameraId: o.row.id,
          siteId: o.row.site_id,
          unitId: o.row.unit_id,
          health: { ...o.supervisor.health() },
          at,
        }),
      ),
    );
  }

  private async persistHealth(): Promise<void> {
    for (const o of this.owned.values()) {
      await this.d.db.query('UPDATE cameras SET health = $2 WHERE id = $1', [
        o.row.id,
        JSON.stringify(o.supervisor.health()),
      ]);
    }
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

  private async checkClocks(): Promise<void> {
    await Promise.all([...this.owned.values()].map((o) => this.checkClock(o)));
  }

  /** ONVIF cameras: the camera clock against ours (RTSP-only cameras have no clock to read). */
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
      if (this.owned.get(o.row.id) === o) o.supervisor.setClockSkew(skew, this.d.config.CLOCK_SKEW_LIMIT_MS);
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

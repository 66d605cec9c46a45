import path from 'node:path';
import type { Config } from '../../config/schema.js';
import type { Tenancy } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CameraRepository } from '../ingest/camera-repository.js';
import type { SupervisedCamera } from '../ingest/stream-outputs.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import type { IngestEvents } from '../ingest/events.js';
import type { EventPublisher, EventSubscriber } from '../platform/event-bus.js';
import type { Jobs } from '../platform/jobs.js';
import type { RecordingJobs } from './jobs.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { ProcessSupervisor } from '../platform/processes.js';
import type { Redis } from '../platform/redis.js';
import type { RedisKeys } from '../platform/redis-keys.js';
import type { RecordingEvents } from './events.js';
import { Ffmpeg } from './ffmpeg.js';
import type { FootageStore } from './footage-store.js';
import { Playback } from './playback.js';
import { Retention } from './retention.js';
import { SegmentIndex } from './segment-index.js';
import { SegmentRepository } from './segment-repository.js';
import { RecordingOutput } from './segment-output.js';
import { SegmentUploader } from './segment-uploader.js';
import { SpoolBoard } from './spool-board.js';
import { Spool, type ReadySegment } from './spool.js';

export interface RecordingDeps {
  config: Config;
  log: Logger;
  clock: Clock;
  db: Db;
  /** The database for the segment index's writes (background work, a bounded share of the pool). */
  backgroundDb: Db;
  /** Raises service faults; hears camera status (an offline camera opens a gap). */
  events: EventPublisher<RecordingEvents> & EventSubscriber<Pick<IngestEvents, 'camera.status'>>;
  jobs: Jobs<RecordingJobs>;
  store: FootageStore;
  audit: AuditLog;
  metrics: Metrics;
  redis: Redis;
  keys: RedisKeys;
  /** Runs every ffmpeg and ffprobe of the module (segment checks, playback, exports). */
  processes: ProcessSupervisor;
  /** Tenancy rules for playback. */
  tenancy: Tenancy;
  /** Answered by ingest: where a camera is (removed ones included), cameras at sites. */
  cameras: Pick<CameraRepository, 'placement' | 'idsAtSites'>;
}

/** How often the spool is scanned for segments whose store job was never enqueued (Redis was down). */
const SCAN_MS = 5000;

/**
 * The recording module: the stream output that writes the spool, the store job, retention and
 * playback, wired to one set of services. `output` is the provider the stream supervisor registers.
 * The ingest side (output, spool, store jobs on the spool's own lane) runs where the spool's disk is;
 * the worker side runs the retention sweep.
 */
export class Recording {
  readonly spool: Spool;
  readonly ffmpeg: Ffmpeg;
  readonly index: SegmentIndex;
  /** Stored footage as other modules (batches) may read it. */
  readonly segments: SegmentRepository;
  readonly retention: Retention;
  readonly uploader: SegmentUploader;
  readonly output: RecordingOutput;
  readonly playback: Playback;
  /** Every ingest process's spool, for readiness checks anywhere. */
  readonly spools: SpoolBoard;
  private scanTimer: NodeJS.Timeout | null = null;
  private readonly stops: (() => void)[] = [];
  private spoolFault = false;
  /** This spool's job lane, once the ingest side has started. */
  private lane: string | null = null;
  private lastSpoolCheck = 0;
  /** Object Lock support of the store, learnt at start. */
  objectLock: boolean | null = null;

  constructor(private readonly d: RecordingDeps) {
    const c = d.config;
    this.spool = new Spool(path.join(c.DATA_DIR, 'spool'));
    this.ffmpeg = new Ffmpeg(d.processes, c.FFMPEG_PATH, c.FFPROBE_PATH);
    this.index = new SegmentIndex(d.backgroundDb, d.clock);
    this.segments = new SegmentRepository(d.db);
    this.retention = new Retention(d.db, d.store, d.audit, d.clock, d.events, d.log, {
      retentionDays: c.RETENTION_DAYS,
      batchRetentionDays: c.BATCH_RETENTION_DAYS,
      batchMarginMinutes: c.BATCH_MARGIN_MINUTES,
      sweepBatch: c.RETENTION_SWEEP_BATCH,
      fillLimit: c.STORAGE_FILL_LIMIT,
      capacityBytes: c.STORAGE_CAPACITY_BYTES,
      localRoot: path.join(c.DATA_DIR, 'footage'),
    });
    this.uploader = new SegmentUploader({
      cameras: d.cameras,
      spool: this.spool,
      store: d.store,
      index: this.index,
      retention: this.retention,
      ffmpeg: this.ffmpeg,
      clock: d.clock,
      log: d.log,
      metrics: d.metrics,
    });
    this.output = new RecordingOutput({
      spool: this.spool,
      ffmpeg: this.ffmpeg,
      index: this.index,
      clock: d.clock,
      log: d.log,
      segmentSeconds: c.SEGMENT_SECONDS,
      onReady: (seg) => this.onReady(seg),
    });
    this.spools = new SpoolBoard(d.redis, d.keys, SCAN_MS * 3);
    this.playback = new Playback({
      db: d.db,
      store: d.store,
      // Playback answers requests: its reads take the request pool, not the background writers' share.
      index: new SegmentIndex(d.db, d.clock),
      audit: d.audit,
      ffmpeg: this.ffmpeg,
      log: d.log,
      tenancy: d.tenancy,
      cameras: d.cameras,
    });
  }

  /** Learns whether the store locks objects, and says once when it does not. */
  private async checkStore(): Promise<void> {
    try {
      this.objectLock = (await this.d.store.check()).objectLock;
      if (!this.objectLock)
        this.d.log.warn(
          { store: this.d.store.kind },
          'footage store has no Object Lock: stored footage is protected by hashes and the audit chain only',
        );
    } catch (err) {
      this.d.log.warn(
        { err: (err as Error).message },
        'footage store not reachable at start; segments stay in the spool',
      );
    }
  }

  /** Storage details for /readyz: kind, writable, and whether objects are locked (WORM). */
  async storageStatus(): Promise<Record<string, unknown>> {
    const { objectLock } = await this.d.store.check();
    this.objectLock = objectLock;
    return {
      kind: this.d.store.kind,
      objectLock,
      ...(objectLock
        ? {}
        : { warning: 'store has no Object Lock: footage integrity rests on hashes and the audit chain' }),
    };
  }

  /** Starts the sides of the roles this process runs; `close()` releases both. */
  async start(): Promise<void> {
    void this.checkStore();
    if (this.d.config.ROLES.includes('ingest')) await this.startIngest();
    if (this.d.config.ROLES.includes('worker')) await this.startWorker();
  }

  /**
   * Ingest side: settle what a crash left in the spool, follow camera status, upload this spool's
   * segments (its own job lane), scan and report the spool.
   */
  async startIngest(): Promise<void> {
    this.lane = await this.spool.id();
    this.d.jobs.work('segment.store', (p) => this.uploader.drain(p.cameraId), { concurrency: 4 }, this.lane);
    const recovered = await this.output.reconcile((id) => this.supervisedCamera(id));
    if (recovered) this.d.log.info({ pulls: recovered }, 'spool reconciled after an unclean stop');
    this.stops.push(
      this.d.events.on('camera.status', (e) => {
        if (e.status !== 'offline') return;
        this.index
          .openGap(e.cameraId, new Date(e.at), 'offline', e.reason ?? undefined)
          .catch((err) => this.d.log.warn({ err: (err as Error).message }, 'could not open an offline gap'));
      }),
    );
    this.startScan();
  }

  /** Worker side: the repeatable retention sweep. */
  private async startWorker(): Promise<void> {
    this.d.jobs.work('retention.sweep', () => this.retention.sweep(), { concurrency: 1 });
    await this.d.jobs.every(
      'retention-sweep',
      'retention.sweep',
      this.d.config.RETENTION_SWEEP_SECONDS * 1000,
      {
        reason: 'schedule',
      },
    );
  }

  private startScan(): void {
    if (this.scanTimer) return;
    this.scanTimer = setInterval(() => void this.scan(), SCAN_MS);
    void this.scan();
  }

  /** Enqueues a store job for every camera with ready segments; reports the spool. */
  async scan(): Promise<void> {
    try {
      const cameras = await this.spool.cameras();
      for (const cameraId of cameras) {
        if ((await this.spool.ready(cameraId)).length) await this.enqueue(cameraId);
      }
      const bytes = await this.checkSpool(true);
      if (this.lane && bytes !== null)
        await this.spools.report({
          spoolId: this.lane,
          root: this.spool.root,
          bytes,
          cameras: cameras.length,
          pressure: this.spoolFault,
        });
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'spool scan failed');
    }
  }

  private async enqueue(cameraId: string): Promise<void> {
    if (!this.lane) throw new Error('recording ingest is not started');
    // One job per camera at a time (same job id): a camera's segments go in order, so its chain holds.
    await this.d.jobs.add(
      'segment.store',
      { cameraId },
      {
        jobId: `store-${cameraId}`,
        attempts: 8,
        backoff: { type: 'exponential', delay: 500 },
        removeOnComplete: true,
        removeOnFail: true,
      },
      this.lane,
    );
  }

  private onReady(seg: ReadySegment): void {
    this.enqueue(seg.cameraId).catch((err) =>
      this.d.log.warn(
        { err: (err as Error).message, cameraId: seg.cameraId },
        'store job not enqueued; spool scan retries',
      ),
    );
    void this.checkSpool(false);
  }

  /**
   * Over SPOOL_MAX_BYTES (storage down for long): raise `spool_pressure` and drop the oldest ready
   * footage, cameras outside active batch sessions first, each dropped span a 'storage_full' gap.
   * Returns the bytes left in the spool (null when skipped: checked less than 2 s ago).
   */
  async checkSpool(force: boolean): Promise<number | null> {
    const now = Date.now();
    if (!force && now - this.lastSpoolCheck < 2000) return null;
    this.lastSpoolCheck = now;
    const max = this.d.config.SPOOL_MAX_BYTES;
    let total = await this.spool.totalBytes();
    if (total <= max) {
      if (this.spoolFault && total < max * 0.8) await this.spoolFaultState(false, total);
      return total;
    }
    await this.spoolFaultState(true, total);
    const protectedCams = await this.retention
      .sitesInActiveSessions()
      .then(async (sites) => new Set(await this.d.cameras.idsAtSites([...sites])))
      .catch(() => new Set<string>());
    const all: ReadySegment[] = [];
    for (const cam of await this.spool.cameras()) all.push(...(await this.spool.ready(cam)));
    all.sort((a, b) => {
      const pa = protectedCams.has(a.cameraId) ? 1 : 0;
      const pb = protectedCams.has(b.cameraId) ? 1 : 0;
      return pa - pb || a.startMs - b.startMs;
    });
    for (const seg of all) {
      if (total <= max * 0.9) break;
      await this.spool.remove(seg);
      total -= seg.bytes;
      await this.index
        .addGap(
          seg.cameraId,
          new Date(seg.startMs),
          new Date(seg.startMs + seg.durationMs),
          'storage_full',
          'dropped from a full spool while storage was unavailable',
        )
        .catch((err) =>
          this.d.log.warn({ err: (err as Error).message }, 'could not record a storage_full gap'),
        );
    }
    return total;
  }

  private async spoolFaultState(active: boolean, total: number): Promise<void> {
    if (this.spoolFault === active) return;
    this.spoolFault = active;
    this.d.log.warn({ active, spoolBytes: total }, 'spool pressure');
    await this.d.events
      .publish('service.fault', {
        kind: 'spool_pressure',
        active,
        at: this.d.clock.now().toISOString(),
        detail: `spool holds ${total} bytes (limit ${this.d.config.SPOOL_MAX_BYTES})`,
      })
      .catch(() => undefined);
  }

  private async supervisedCamera(id: string): Promise<SupervisedCamera | null> {
    const c = await this.d.cameras.placement(id);
    return c ? { id: c.id, siteId: c.siteId, unitId: c.unitId, name: c.name } : null;
  }

  async close(): Promise<void> {
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = null;
    if (this.lane) await this.spools.withdraw(this.lane).catch(() => undefined);
    for (const stop of this.stops.splice(0)) stop();
    this.output.close();
    await this.output.idle();
  }
}

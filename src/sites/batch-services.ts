import path from 'node:path';
import type { Config } from '../../config/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import type { EventBus } from '../platform/event-bus.js';
import type { JobQueues } from '../platform/jobs.js';
import type { Logger } from '../platform/logger.js';
import { BatchExportBuilder } from '../recording/batch-export.js';
import { BatchFootage } from '../recording/batch-footage.js';
import { loadSigningKey, type SigningKey } from '../recording/batch-signing.js';
import type { FootageStore } from '../recording/footage-store.js';
import type { Recording } from '../recording/recording.js';
import { ExportService } from './batch-exports.js';
import { BatchLifecycle } from './batch-lifecycle.js';
import { BatchRecords } from './batch-records.js';
import type { BatchService } from './batches.js';
import { DispatchService } from './dispatch.js';
import { ReadinessService } from './readiness.js';
import { SpotCheckService } from './spot-checks.js';

/** Everything issue 6 adds around batches: footage, lifecycle, readiness, dispatch, exports. */
export interface BatchOps {
  footage: BatchFootage;
  records: BatchRecords;
  lifecycle: BatchLifecycle;
  readiness: ReadinessService;
  dispatch: DispatchService;
  spotChecks: SpotCheckService;
  exports: ExportService;
  signing: SigningKey;
  /** Starts the worker-role parts (export builds, the periodic readiness check); returns a stop. */
  startWorkers(): () => void;
}

export async function createBatchOps(deps: {
  config: Config;
  db: Db;
  audit: AuditLog;
  clock: Clock;
  events: EventBus;
  jobs: JobQueues;
  store: FootageStore;
  batches: BatchService;
  recording: Recording;
  log: Logger;
}): Promise<BatchOps> {
  const { config, db, audit, clock, events, jobs, store, batches, recording, log } = deps;
  const signing = await loadSigningKey(config.SIGNING_KEY_FILE, config.DATA_DIR);
  const footage = new BatchFootage(db, { marginMinutes: config.BATCH_MARGIN_MINUTES });
  const readiness = new ReadinessService(
    db,
    store,
    events,
    clock,
    {
      clockSkewLimitMs: config.CLOCK_SKEW_LIMIT_MS,
      spoolMinFreeMb: config.SPOOL_MIN_FREE_MB,
      dataDir: config.DATA_DIR,
      leadMinutes: config.READINESS_LEAD_MINUTES,
    },
    log,
  );
  const builder = new BatchExportBuilder({
    db,
    store,
    signing,
    ffmpeg: recording.ffmpeg,
    concurrency: config.VERIFY_CONCURRENCY,
    tmpRoot: path.join(config.DATA_DIR, 'tmp'),
  });
  const exports = new ExportService(db, audit, clock, batches, footage, store, jobs, builder, log, '/api/v1');
  return {
    footage,
    records: new BatchRecords(db, audit, clock, batches, footage, store, readiness, {
      verifyConcurrency: config.VERIFY_CONCURRENCY,
    }),
    lifecycle: new BatchLifecycle(db, audit, clock, batches, recording.retention),
    readiness,
    dispatch: new DispatchService(db, audit, clock, batches, { perSession: config.DISPATCH_PER_SESSION }),
    spotChecks: new SpotCheckService(db, audit, clock),
    exports,
    signing,
    startWorkers: () => {
      exports.work();
      return readiness.schedule(config.READINESS_CHECK_INTERVAL_SECONDS * 1000);
    },
  };
}

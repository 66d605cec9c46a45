import path from 'node:path';
import type { Tenancy } from '../access/policy.js';
import type { UserService } from '../access/users.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CameraRepository } from '../ingest/camera-repository.js';
import type { Lifecycle } from '../platform/lifecycle.js';
import type { BatchJobs } from './jobs.js';
import type { Platform } from '../platform/platform.js';
import type { RecordingEvents } from '../recording/events.js';
import type { CoverageRepository } from '../sites/coverage-repository.js';
import type { SiteRepository } from '../sites/site-repository.js';
import type { BatchEvents } from './events.js';
import { BatchExportBuilder } from './export-builder.js';
import { BatchFootage } from './footage.js';
import { loadSigningKey, type SigningKey } from './signing.js';
import type { FootageStore } from '../recording/footage-store.js';
import type { Recording } from '../recording/recording.js';
import { ExportService } from './exports.js';
import { BatchLifecycle } from './lifecycle.js';
import { BatchRecords } from './records.js';
import { BatchService } from './batches.js';
import { DispatchService } from './dispatch.js';
import { ReadinessService } from './readiness.js';
import { SpotCheckService } from './spot-checks.js';

/** Batches and everything around them: footage, lifecycle, readiness, dispatch, spot checks, exports. */
export interface BatchesModule extends Lifecycle {
  batches: BatchService;
  footage: BatchFootage;
  records: BatchRecords;
  lifecycle: BatchLifecycle;
  readiness: ReadinessService;
  dispatch: DispatchService;
  spotChecks: SpotCheckService;
  exports: ExportService;
  signing: SigningKey;
}

/** What batches ask the modules below them, each answering for its own tables (footage: `recording`). */
export interface BatchOwners {
  users: Pick<UserService, 'namesOf' | 'supervisorPool'>;
  sites: SiteRepository;
  coverage: CoverageRepository;
  cameras: CameraRepository;
}

/** In every role; the worker role also builds exports and checks upcoming sessions' readiness. */
export async function createBatchesModule(
  p: Platform<BatchEvents & RecordingEvents, BatchJobs>,
  deps: { audit: AuditLog; store: FootageStore; recording: Recording; tenancy: Tenancy; owners: BatchOwners },
): Promise<BatchesModule> {
  const { config, db, clock, events, jobs, log } = p;
  const { audit, store, recording, owners } = deps;
  const sharedSecrets = {
    signingKey: (generate: () => string) => p.deployment.signingKey(p.secrets, generate),
  };
  const signing = await loadSigningKey(config.SIGNING_KEY_FILE, sharedSecrets, config.DATA_DIR);
  const batches = new BatchService(db, audit, clock, deps.tenancy, owners.sites);
  const footage = new BatchFootage(
    { cameras: owners.cameras, coverage: owners.coverage, segments: recording.segments },
    {
      marginMinutes: config.BATCH_MARGIN_MINUTES,
      // A segment being written, then stored (a few seconds once closed).
      pendingMs: config.SEGMENT_SECONDS * 1000 + 10_000,
    },
  );
  const readiness = new ReadinessService(
    db,
    store,
    events,
    clock,
    {
      clockSkewLimitMs: config.CLOCK_SKEW_LIMIT_MS,
      spoolMinFreeMb: config.SPOOL_MIN_FREE_MB,
      leadMinutes: config.READINESS_LEAD_MINUTES,
      spools: () => recording.spools.list(),
    },
    log,
    { sites: owners.sites, coverage: owners.coverage, cameras: owners.cameras },
  );
  const builder = new BatchExportBuilder({
    segments: recording.segments,
    store,
    signing,
    ffmpeg: recording.ffmpeg,
    concurrency: config.VERIFY_CONCURRENCY,
    tmpRoot: path.join(config.DATA_DIR, 'tmp'),
  });
  const exports = new ExportService(
    db,
    audit,
    clock,
    batches,
    footage,
    store,
    jobs,
    builder,
    log,
    '/api/v1',
    owners.sites,
  );
  const worker = config.ROLES.includes('worker');
  return {
    batches,
    footage,
    records: new BatchRecords(
      db,
      audit,
      clock,
      batches,
      footage,
      store,
      readiness,
      {
        verifyConcurrency: config.VERIFY_CONCURRENCY,
      },
      { users: owners.users, sites: owners.sites, segments: recording.segments },
    ),
    lifecycle: new BatchLifecycle(db, audit, clock, batches, recording.retention),
    readiness,
    dispatch: new DispatchService(
      db,
      audit,
      clock,
      batches,
      { perSession: config.DISPATCH_PER_SESSION },
      owners.users,
    ),
    spotChecks: new SpotCheckService(db, audit, clock),
    exports,
    signing,
    start: async () => {
      // Export build jobs are closed with the job queues.
      if (worker) exports.work();
      await readiness.start(worker ? config.READINESS_CHECK_INTERVAL_SECONDS * 1000 : undefined);
    },
    close: () => readiness.close(),
  };
}

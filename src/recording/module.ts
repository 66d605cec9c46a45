import path from 'node:path';
import type { Config } from '../../config/schema.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { IngestEvents } from '../ingest/events.js';
import type { RecordingJobs } from './jobs.js';
import type { Platform } from '../platform/platform.js';
import type { ProcessSupervisor } from '../platform/processes.js';
import type { RecordingEvents } from './events.js';
import { LocalFootageStore, type FootageStore } from './footage-store.js';
import { Recording, type RecordingDeps } from './recording.js';
import { S3FootageStore } from './s3-footage-store.js';

/** S3 when it is configured, else files under DATA_DIR. */
export function createFootageStore(c: Config): FootageStore {
  return c.S3_ENDPOINT && c.S3_ACCESS_KEY && c.S3_SECRET_KEY && c.S3_BUCKET
    ? new S3FootageStore({
        endpoint: c.S3_ENDPOINT,
        accessKey: c.S3_ACCESS_KEY,
        secretKey: c.S3_SECRET_KEY,
        bucket: c.S3_BUCKET,
        region: c.S3_REGION,
      })
    : new LocalFootageStore(path.join(c.DATA_DIR, 'footage'));
}

/**
 * The footage store and the recording (spool, store jobs, retention, playback); not started. Its
 * ffmpeg and ffprobe runs go through the process's one supervisor.
 */
export function createRecordingModule(
  p: Platform<RecordingEvents & IngestEvents, RecordingJobs>,
  deps: { audit: AuditLog; processes: ProcessSupervisor } & Pick<RecordingDeps, 'tenancy' | 'cameras'>,
): { store: FootageStore; recording: Recording } {
  const store = createFootageStore(p.config);
  const recording = new Recording({ ...p, store, ...deps });
  return { store, recording };
}

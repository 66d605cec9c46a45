import type { AlertJobs } from './alerts/jobs.js';
import type { BatchEvents } from './batches/events.js';
import type { BatchJobs } from './batches/jobs.js';
import type { IngestEvents } from './ingest/events.js';
import type { RecordingEvents } from './recording/events.js';
import type { RecordingJobs } from './recording/jobs.js';

/** Every event on the service's bus: each module's own declarations, composed here. */
export interface DomainEvents extends IngestEvents, RecordingEvents, BatchEvents {}
export type EventName = keyof DomainEvents;

/** Every background job: each module's own declarations, composed here. */
export interface DomainJobs extends RecordingJobs, BatchJobs, AlertJobs {}

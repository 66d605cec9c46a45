import type { Migration } from './types.js';
import { registry } from './001-registry.js';
import { recording } from './002-recording.js';
import { ingest } from './003-ingest.js';
import { batches } from './004-batches.js';
import { alerts } from './005-alerts.js';
import { deployment } from './006-deployment.js';
import { batchWindows } from './007-batch-windows.js';
import { referenceSource } from './008-reference-source.js';

/** Every migration, in version order. Add new ones at the end; never edit one that has shipped. */
export const migrations: Migration[] = [
  registry,
  recording,
  ingest,
  batches,
  alerts,
  deployment,
  batchWindows,
  referenceSource,
].sort((a, b) => a.version - b.version);

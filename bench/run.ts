import { runAlertsBench } from './alerts.js';
import { runBatchesBench } from './batches.js';
import { runCapacityBench } from './capacity.js';
import { runIngestBench } from './ingest.js';
import { runLabBench } from './lab.js';
import { runPicturesBench } from './pictures.js';
import { runRecordingBench } from './recording.js';

/**
 * `npm run bench`: the capacity of this machine (cost per camera against a bare copy, cameras held,
 * alert and store latency) in one table. `npm run bench -- AREA ...` runs the given areas instead
 * (`all` for every one); each prints its figures measured side by side in one run.
 */
const benches: Record<string, () => Promise<void>> = {
  capacity: runCapacityBench,
  lab: runLabBench,
  ingest: runIngestBench,
  recording: runRecordingBench,
  batches: runBatchesBench,
  alerts: runAlertsBench,
  pictures: runPicturesBench,
};

const args = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const wanted = args.includes('all') ? Object.keys(benches) : args.length ? args : ['capacity'];
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length) {
  process.stderr.write(
    `unknown bench: ${unknown.join(', ')}; choose from ${Object.keys(benches).join(', ')}\n`,
  );
  process.exit(2);
}
for (const name of wanted) {
  process.stdout.write(`\n=== ${name} ===\n`);
  await benches[name]!();
}

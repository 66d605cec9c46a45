import { runAlertsBench } from './alerts.js';
import { runBatchesBench } from './batches.js';
import { runIngestBench } from './ingest.js';
import { runLabBench } from './lab.js';
import { runRecordingBench } from './recording.js';

/** `npm run bench [area ...]`: each area prints its figures measured side by side in one run. */
const benches: Record<string, () => Promise<void>> = {
  lab: runLabBench,
  ingest: runIngestBench,
  recording: runRecordingBench,
  batches: runBatchesBench,
  alerts: runAlertsBench,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length) {
  process.stderr.write(
    `unknown bench: ${unknown.join(', ')}; choose from ${Object.keys(benches).join(', ')}\n`,
  );
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  process.stdout.write(`\n=== ${name} ===\n`);
  await benches[name]!();
}

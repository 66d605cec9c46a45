/**
 * Starts and closes the whole service (api, ingest, worker) in this process CYCLES times, each time
 * supervising the lab camera the parent registered and answering HTTP, then prints what is still
 * open. It never calls process.exit: the parent also checks that the process ends by itself.
 * Prints one JSON line: {baseline, after, cycles, pulls}.
 */
import { loadConfig } from '../../config/schema.js';
import { startService } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';

const env = JSON.parse(process.env.LIFECYCLE_CHILD!) as { config: Record<string, string>; cycles: number };

/** Open handles by kind (timers, sockets, child processes, ...), as Node counts them. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

const baseline = resources();
const pulls: number[] = [];
for (let i = 0; i < env.cycles; i++) {
  const config = loadConfig(env.config);
  const running = await startService(config, { log: createLogger(config.LOG_LEVEL) });
  // Until the camera's pull is running (or 10 s): the cycle must also release an ffmpeg.
  const deadline = Date.now() + 10_000;
  while (running.services.processes.count === 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  pulls.push(running.services.processes.count);
  const ready = await fetch(`${running.url}/readyz`);
  await ready.arrayBuffer();
  await running.close();
}
// Let sockets that were closed finish closing.
await new Promise((r) => setTimeout(r, 500));
process.stdout.write(`${JSON.stringify({ baseline, after: resources(), cycles: env.cycles, pulls })}\n`);

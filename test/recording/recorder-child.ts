/**
 * A recording service process for the crash test: worker role plus the recording output pulling one
 * camera through the test supervisor. Killed with SIGKILL by the test; on SIGTERM it stops cleanly
 * after the spool has drained. Prints JSON lines: {pullStartedAt}.
 */
import { loadConfig } from '../../config/schema.js';
import { startService } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';
import { TestPull } from './support.js';

const env = JSON.parse(process.env.RECORDER_CHILD!) as {
  config: Record<string, string>;
  camera: { id: string; siteId: string; unitId: string; name: string };
  url: string;
};
const config = loadConfig({ ...env.config, ROLES: 'worker' });
const running = await startService(config, { log: createLogger(config.LOG_LEVEL) });
const rec = running.services.recording;
await rec.startIngest();
const pull = TestPull.rtsp(env.camera, env.url, {
  name: 'recording',
  outputArgs: (c) => rec.output.outputArgs(c),
  onStart: (c, at) => {
    rec.output.onStart(c);
    process.stdout.write(`${JSON.stringify({ pullStartedAt: at.getTime() })}\n`);
  },
  onExit: (c, at, reason) => rec.output.onExit(c, at, reason),
});
pull.supervise();

process.once('SIGTERM', async () => {
  await pull.stop();
  await rec.output.idle();
  while ((await rec.spool.ready(env.camera.id)).length) await rec.uploader.drain(env.camera.id);
  await running.close();
  process.exit(0);
});

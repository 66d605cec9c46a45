import { runWithDeadline } from './observe.js';

const ATTEMPTS = 4;
const ATTEMPT_MS = 4000;
const AT_ONCE = 8;

/** One short RTSP read of a stream (DESCRIBE, SETUP, PLAY, the first packets); true if it answered. */
function answers(url: string): Promise<boolean> {
  const args = [
    ...['-v', 'error', '-rtsp_transport', 'tcp', '-timeout', String((ATTEMPT_MS - 500) * 1000)],
    ...['-analyzeduration', '200000', '-probesize', '32768'],
    ...['-show_entries', 'stream=codec_name', '-of', 'csv', url],
  ];
  return runWithDeadline('ffprobe', args, ATTEMPT_MS).then((r) => r.code === 0 && !r.timedOut);
}

/**
 * Reads every stream once before the lab is handed out. A freshly started gst-rtsp-server now and
 * then leaves its first client unanswered (3 in 40 fresh cameras, measured with two labs starting
 * together; the next client is served at once), which made camera registrations in the tests fail
 * with "no answer within 20000 ms". The warm-up is that first client, retried until served.
 */
export async function warmUpStreams(urls: string[]): Promise<void> {
  const queue = [...urls];
  const failed: string[] = [];
  await Promise.all(
    Array.from({ length: Math.min(AT_ONCE, queue.length) }, async () => {
      for (let url = queue.shift(); url; url = queue.shift()) {
        let ok = false;
        for (let i = 0; i < ATTEMPTS && !ok; i++) ok = await answers(url);
        if (!ok) failed.push(url.replace(/\/\/[^@/]*@/, '//'));
      }
    }),
  );
  if (failed.length) throw new Error(`lab streams never answered: ${failed.join(', ')}`);
}

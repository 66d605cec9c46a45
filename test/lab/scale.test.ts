import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { changedFraction, grabGrey, mean, probe, runWithDeadline, waitFor } from '../../lab/observe.js';

// Scale mode: pre-encoded loops, nothing encoded while serving.
let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ cameras: 2, mode: 'scale', width: 640, height: 360, fps: 15 });
});
afterAll(async () => {
  await lab?.stop();
});

describe('scale mode', () => {
  it('serves the advertised streams over TCP and UDP', async () => {
    const cam = lab.cameras[1]!;
    expect(await probe(cam.rtsp.main, 'udp')).toEqual({ codec: 'h264', width: 640, height: 360, fps: 15 });
    expect(await probe(cam.rtsp.sub, 'tcp')).toEqual({ codec: 'h264', width: 320, height: 180, fps: 15 });
  });

  it('switches picture variants inside the running session', async () => {
    const cam = lab.cameras[0]!;
    const url = cam.rtsp.sub;
    const before = await grabGrey(url, { frames: 10 });
    expect(changedFraction(before.frames[0]!, before.frames[9]!)).toBeGreaterThan(0.002);
    await lab.inject(cam.id, 'black');
    await waitFor(
      async () => (mean((await grabGrey(url, { frames: 3 })).frames[2]!) < 30 ? true : undefined),
      {
        what: 'black variant',
      },
    );
    await lab.inject(cam.id, 'frozen', { durationMs: 60_000 });
    await lab.clear(cam.id, 'black');
    await waitFor(
      async () => {
        const g = await grabGrey(url, { frames: 10 });
        return changedFraction(g.frames[0]!, g.frames[9]!) < 0.001 && mean(g.frames[9]!) > 60
          ? true
          : undefined;
      },
      { what: 'frozen variant' },
    );
    await lab.clear(cam.id);
    await expect(probe(cam.rtsp.main)).resolves.toMatchObject({ width: 640 });
  });

  it('answers every fresh session at once (frames stamped on the running time, not minutes ahead)', async () => {
    // 1 in 20 sessions used to start while its pipeline had a clock but no base time yet, and got
    // no picture for minutes; 80 sessions hit that with a probability of about 0.9.
    const many = await startLab({ cameras: 10, mode: 'scale', width: 320, height: 180 });
    const urls = many.cameras.flatMap((c) => [c.rtsp.main, c.rtsp.sub]);
    try {
      const unanswered: string[] = [];
      for (let round = 0; round < 4; round++) {
        await Promise.all(
          urls.map(async (url) => {
            const args = ['-v', 'error', '-rtsp_transport', 'tcp', '-timeout', '8000000'];
            const r = await runWithDeadline(
              'ffprobe',
              [...args, '-show_entries', 'stream=codec_name', url],
              9000,
            );
            if (r.code !== 0 || r.timedOut) unanswered.push(`${url} (round ${round})`);
          }),
        );
      }
      expect(unanswered).toEqual([]);
    } finally {
      await many.stop();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { changedFraction, grabGrey, mean, probe, waitFor } from '../../lab/observe.js';

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
});

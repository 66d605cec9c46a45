import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab, type LabCamera } from '../../lab/index.js';
import { camCall, connectCam } from '../../lab/onvif-client.js';
import {
  changedFraction,
  grabGrey,
  mean,
  probe,
  sharpness,
  stddev,
  waitFor,
  type GreyFrames,
} from '../../lab/observe.js';

let lab: Lab;
let cam: LabCamera;
let baseline: GreyFrames;
const W = 160;
const H = 90;

/** Grey frames spanning about a second of the sub stream (cheap to decode). */
const look = (frames = 12) => grabGrey(cam.rtsp.sub, { frames, width: W, height: H });
const last = (g: GreyFrames) => g.frames[g.frames.length - 1]!;
/** Pixels that changed between first and last frame: the moving marker and the clock. */
const motion = (g: GreyFrames) => changedFraction(g.frames[0]!, last(g));

beforeAll(async () => {
  lab = await startLab({ cameras: 1, mode: 'live', width: 640, height: 360, fps: 15 });
  cam = lab.cameras[0]!;
  baseline = await look();
});
afterAll(async () => {
  await lab?.stop();
});
afterEach(async () => {
  await lab.clear(cam.id);
});

/** Polls the picture until `ok` holds for it (a fault takes a frame or two to show). */
function until(what: string, ok: (g: GreyFrames) => boolean, frames = 12): Promise<GreyFrames> {
  return waitFor(
    async () => {
      const g = await look(frames);
      return ok(g) ? g : undefined;
    },
    { what, timeoutMs: 25_000, intervalMs: 100 },
  );
}

const isNormal = (g: GreyFrames) =>
  changedFraction(baseline.frames[0]!, last(g)) < 0.1 && stddev(last(g)) > 50 && motion(g) > 0.002;

describe('picture faults seen by a decoder', () => {
  it('baseline: bars with a moving marker', () => {
    expect(stddev(last(baseline))).toBeGreaterThan(50);
    expect(motion(baseline)).toBeGreaterThan(0.002);
  });

  it('black, then restored on clear without a new camera', async () => {
    await lab.inject(cam.id, 'black');
    const g = await until('black picture', (g) => mean(last(g)) < 30);
    expect(stddev(last(g))).toBeLessThan(30);
    await lab.clear(cam.id, 'black');
    await until('picture back', isNormal);
  });

  it('covered: dark, textureless, not black', async () => {
    await lab.inject(cam.id, 'covered');
    const g = await until('covered lens', (g) => stddev(last(g)) < 25 && mean(last(g)) > 35);
    expect(mean(last(g))).toBeLessThan(80);
  });

  it('frozen: frames keep coming but nothing moves', async () => {
    await lab.inject(cam.id, 'frozen');
    // Encoder noise may flip a few pixels; a moving marker changes far more (about 2 %).
    const g = await until('frozen picture', (g) => motion(g) < 0.001, 15);
    expect(stddev(last(g))).toBeGreaterThan(50);
    await lab.clear(cam.id, 'frozen');
    await until('motion back', (g) => motion(g) > 0.002);
  });

  it('blurred: sharpness falls', async () => {
    const sharp = sharpness(last(baseline), W);
    await lab.inject(cam.id, 'blurred');
    await until('blurred picture', (g) => sharpness(last(g), W) < sharp * 0.7);
    await lab.clear(cam.id, 'blurred');
    await until('sharp again', (g) => sharpness(last(g), W) > sharp * 0.9);
  });

  it('moved: the scene no longer matches the reference', async () => {
    await lab.inject(cam.id, 'moved');
    await until('moved scene', (g) => changedFraction(baseline.frames[0]!, last(g)) > 0.3);
    await lab.clear(cam.id, 'moved');
    await until('scene back in place', isNormal);
  });

  it('a fault with a duration clears by itself', async () => {
    await lab.inject(cam.id, 'black', { durationMs: 1500 });
    expect(lab.faults(cam.id)).toEqual([expect.objectContaining({ kind: 'black' })]);
    await waitFor(async () => (lab.faults(cam.id).length === 0 ? true : undefined), { what: 'expiry' });
    await until('picture back', isNormal);
  });
});

describe('stream faults', () => {
  it('low_resolution and low_fps are seen by ffprobe and by frame timing', async () => {
    await lab.inject(cam.id, 'low_resolution');
    await waitFor(async () => ((await probe(cam.rtsp.main)).width === 160 ? true : undefined), {
      what: 'low resolution',
    });
    await lab.clear(cam.id);
    await lab.inject(cam.id, 'low_fps');
    // 2 fps: 6 frames need about 3 s where the normal stream needs under half a second.
    const started = Date.now();
    await grabGrey(cam.rtsp.sub, { frames: 6, skip: 0, timeoutMs: 15_000 });
    const slow = Date.now() - started;
    await lab.clear(cam.id);
    const t2 = Date.now();
    await grabGrey(cam.rtsp.sub, { frames: 6, skip: 0 });
    expect(slow - (Date.now() - t2)).toBeGreaterThan(1500);
  });

  it('stalled: the session opens but no media comes; clearing brings frames back', async () => {
    await lab.inject(cam.id, 'stalled');
    await expect(grabGrey(cam.rtsp.sub, { frames: 3, timeoutMs: 5000 })).rejects.toThrow(
      /got [01]\/3 frames/,
    );
    await lab.clear(cam.id, 'stalled');
    expect((await look(3)).frames).toHaveLength(3);
  });

  it('offline: RTSP connection refused, ONVIF still up', async () => {
    await lab.inject(cam.id, 'offline');
    await expect(probe(cam.rtsp.main, 'tcp', 5000)).rejects.toThrow(/Connection refused/);
    const c = await connectCam({
      hostname: cam.onvif.host,
      port: cam.onvif.port,
      username: cam.username,
      password: cam.password,
    });
    expect(c.profiles).toHaveLength(2);
    await lab.clear(cam.id, 'offline');
    expect((await probe(cam.rtsp.main)).width).toBe(640);
  });

  it('offline: back on its own port once that is free, even if something took it meanwhile', async () => {
    const port = Number(new URL(cam.rtsp.main).port);
    await lab.inject(cam.id, 'offline');
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    await lab.clear(cam.id, 'offline');
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    await waitFor(async () => ((await probe(cam.rtsp.main, 'tcp', 4000)).width === 640 ? true : undefined), {
      what: 'camera back on its port',
    });
  });

  it('reboot: RTSP and ONVIF down for the duration, then back on the same addresses', async () => {
    await lab.inject(cam.id, 'reboot', { durationMs: 3000 });
    await expect(probe(cam.rtsp.main, 'tcp', 3000)).rejects.toThrow(/Connection refused/);
    await expect(fetch(cam.onvif.xaddr, { method: 'POST', body: '' })).rejects.toThrow();
    await waitFor(async () => ((await probe(cam.rtsp.main, 'tcp', 4000)).width === 640 ? true : undefined), {
      what: 'camera back after reboot',
    });
    const c = await connectCam({
      hostname: cam.onvif.host,
      port: cam.onvif.port,
      username: cam.username,
      password: cam.password,
    });
    expect(c.profiles).toHaveLength(2);
  });

  it('wrong_credentials: the known password is refused by RTSP and ONVIF until cleared', async () => {
    await lab.inject(cam.id, 'wrong_credentials');
    await expect(probe(cam.rtsp.sub)).rejects.toThrow(/401/);
    await expect(
      connectCam({
        hostname: cam.onvif.host,
        port: cam.onvif.port,
        username: cam.username,
        password: cam.password,
      }),
    ).rejects.toThrow(/not authorized/i);
    await lab.clear(cam.id, 'wrong_credentials');
    expect((await probe(cam.rtsp.sub)).width).toBe(320);
  });

  it('clock_skew: the ONVIF clock is off by the skew', async () => {
    const c = await connectCam({
      hostname: cam.onvif.host,
      port: cam.onvif.port,
      username: cam.username,
      password: cam.password,
    });
    const skewMs = -3 * 3600_000;
    await lab.inject(cam.id, 'clock_skew', { skewMs });
    const t = await camCall<Date>((cb) => c.getSystemDateAndTime(cb));
    expect(Math.abs(t.getTime() - (Date.now() + skewMs))).toBeLessThan(3000);
    await lab.clear(cam.id, 'clock_skew');
    const t2 = await camCall<Date>((cb) => c.getSystemDateAndTime(cb));
    expect(Math.abs(t2.getTime() - Date.now())).toBeLessThan(3000);
  });
});

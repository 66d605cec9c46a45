import { describe, expect, it } from 'vitest';
import { rng } from '../../lab/scenes.js';
import { FaultSources, topicFault } from '../../src/ingest/fault-sources.js';
import { parseEncoderConfiguration, parseNotifications } from '../../src/ingest/onvif-replies.js';
import { DEFAULT_PICTURE_THRESHOLDS, PictureChecker } from '../../src/ingest/picture-checks.js';
import type { GrayFrame } from '../../src/ingest/picture.js';
import { PictureWatch } from '../../src/ingest/picture-watch.js';

const W = 320;
const H = 180;
const T = { ...DEFAULT_PICTURE_THRESHOLDS, referenceAfterMs: 10_000 };

/** A textured canvas (seeded rectangles) larger than the view, so the view can be shifted over it. */
const CANVAS = (() => {
  const r = rng(1);
  const cw = W * 2;
  const data = new Uint8Array(cw * H * 2).fill(120);
  for (let k = 0; k < 240; k++) {
    const [rx, ry, rw, rh, v] = [r() * cw, r() * H * 2, 4 + r() * 30, 4 + r() * 20, r() * 255];
    for (let y = Math.floor(ry); y < Math.min(H * 2, ry + rh); y++)
      data.fill(v, y * cw + Math.floor(rx), y * cw + Math.min(cw, Math.floor(rx + rw)));
  }
  return { cw, data };
})();

/** The view of the canvas shifted by (dx, dy), with a block at `block` and sensor noise. */
function scene(
  o: { block?: number; dx?: number; dy?: number; noise?: number; seed?: number } = {},
): GrayFrame {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    const from = (y + (o.dy ?? 0)) * CANVAS.cw + (o.dx ?? 0);
    data.set(CANVAS.data.subarray(from, from + W), y * W);
  }
  const b = o.block ?? 0;
  for (let y = 100; y < 130; y++) for (let x = 20 + b; x < 50 + b; x++) data[y * W + x] = 250;
  return withNoise({ width: W, height: H, data }, o.noise ?? 3, o.seed ?? 0);
}

function withNoise(f: GrayFrame, amount: number, seed: number): GrayFrame {
  const r = rng(seed + 99);
  return {
    ...f,
    data: f.data.map((v) => Math.max(0, Math.min(255, Math.round(v + (r() - 0.5) * 2 * amount)))),
  };
}

const flat = (v: number, seed: number): GrayFrame =>
  withNoise({ width: W, height: H, data: new Uint8Array(W * H).fill(v) }, 2, seed);

function blur(f: GrayFrame, radius = 3): GrayFrame {
  const out = new Uint8Array(f.data.length);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let s = 0;
      let n = 0;
      for (let dy = -radius; dy <= radius; dy++)
        for (let dx = -radius; dx <= radius; dx++) {
          s += f.data[Math.min(H - 1, Math.max(0, y + dy)) * W + Math.min(W - 1, Math.max(0, x + dx))]!;
          n++;
        }
      out[y * W + x] = Math.round(s / n);
    }
  return { width: W, height: H, data: out };
}

/** Live pictures: the block moves and the noise changes from one to the next. */
const live = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => scene({ block: ((from + i) * 23) % 200, seed: from + i }));

function feeder(c: PictureChecker) {
  let at = 0;
  return (frames: GrayFrame[]) =>
    frames.flatMap((f) => {
      at += 1000;
      return c.push(f, at).changed;
    });
}

describe('picture checks on synthetic pictures', () => {
  it('raises each fault only after consecutive samples and clears it the same way', () => {
    const c = new PictureChecker(T);
    const feed = feeder(c);
    c.setReference(scene({ seed: 500 }));
    expect(feed(live(8))).toEqual([]);
    expect(feed([flat(10, 1), ...live(3, 10)])).toEqual([]);
    expect(feed([flat(10, 2), flat(10, 3), flat(10, 4)])).toEqual([{ kind: 'black', active: true }]);
    expect(feed(live(3, 20))).toEqual([{ kind: 'black', active: false }]);
    // Covered whatever its brightness: a hand (dark) or paper with light behind it (bright).
    for (const v of [50, 210]) {
      expect(feed([flat(v, 5), flat(v, 6), flat(v, 7)])).toEqual([{ kind: 'covered', active: true }]);
      expect(feed(live(3, 30 + v))).toEqual([{ kind: 'covered', active: false }]);
    }
    const still = scene({ block: 40, seed: 77 });
    expect(feed(live(6, 300))).toEqual([]);
    expect(feed([still, still, still, still])).toEqual([{ kind: 'frozen', active: true }]);
    expect(feed(live(3, 40))).toEqual([{ kind: 'frozen', active: false }]);
    expect(feed(live(4, 50).map((f) => blur(f)))).toEqual([{ kind: 'blurred', active: true }]);
    expect(feed(live(3, 60))).toEqual([{ kind: 'blurred', active: false }]);
    const shifted = (n: number) =>
      Array.from({ length: n }, (_, i) => scene({ dx: 80, dy: 45, seed: 70 + i }));
    expect(feed(shifted(3))).toEqual([{ kind: 'moved', active: true }]);
    expect(feed(live(3, 80))).toEqual([{ kind: 'moved', active: false }]);
  });

  it('counts a still picture with a ticking clock as frozen (a frozen sensor behind a live OSD)', () => {
    const c = new PictureChecker(T);
    const feed = feeder(c);
    feed(live(8));
    const bars = scene({ block: 90, noise: 0 });
    const ticking = (s: number) => {
      const data = bars.data.slice();
      for (let y = 4; y < 14; y++) for (let x = 4; x < 40; x++) data[y * W + x] = (s * 37 + x * 11) % 255;
      return { width: W, height: H, data };
    };
    expect(feed([1, 2, 3, 4].map(ticking))).toEqual([{ kind: 'frozen', active: true }]);
  });

  it('takes the reference by itself once the picture stays healthy and still, and only then judges blur', () => {
    const c = new PictureChecker(T);
    let at = 0;
    const push = (f: GrayFrame) => c.push(f, (at += 1000));
    // A blurred picture before any reference says nothing about focus.
    for (const f of live(5).map((x) => blur(x))) expect(push(f).changed).toEqual([]);
    const taken = live(12, 100)
      .map(push)
      .find((r) => r.reference);
    expect(taken?.reference).toBeDefined();
    expect(c.hasReference).toBe(true);
    expect(live(4, 200).flatMap((f) => push(blur(f)).changed)).toEqual([{ kind: 'blurred', active: true }]);
  });
});

describe('the floor of a clear picture', () => {
  const watch = () => new PictureWatch({ floors: { minHeight: 180, minFps: 10, minKbps: 256 }, picture: T });
  const size = { width: W, height: H };
  const floors = (w: PictureWatch, kbps: number) =>
    Array.from({ length: 5 }, () => w.checkFloors({ fps: 15, kbps }, size)).flat();

  it('takes a low bitrate on a clear picture for a quiet scene, not a fault', () => {
    const w = watch();
    w.checker.setReference(scene());
    live(4).forEach((f, i) => w.sample(f, i * 1000));
    expect(floors(w, 60)).toEqual([]);
  });

  it('flags a low bitrate when the picture is unclear, or when the encoder is set below the floor', () => {
    const w = watch();
    w.checker.setReference(scene());
    live(4).forEach((f, i) => w.sample(blur(f), i * 1000));
    expect(floors(w, 60)).toMatchObject([
      { kind: 'low_bitrate', active: true, detail: '60 kbit/s < 256 and the picture unclear' },
    ]);
    const configured = watch();
    configured.setEncoder({
      encoding: 'H264',
      width: W,
      height: H,
      frameRateLimit: 15,
      bitrateLimit: 128,
      constantBitRate: null,
    });
    expect(floors(configured, 900)).toMatchObject([
      { kind: 'low_bitrate', detail: 'encoder set to 128 kbit/s < 256' },
    ]);
  });
});

describe("the camera's own analytics", () => {
  it('merges a fault the camera reports with our own judgement and names who says so', () => {
    const s = new FaultSources();
    expect(topicFault('RuleEngine/TamperDetector/Tamper')).toBe('covered');
    expect(topicFault('VideoSource/GlobalSceneChange/AnalyticsService')).toBe('moved');
    expect(topicFault('VideoSource/ImageTooDark/AnalyticsService')).toBeNull();
    expect(s.set('covered', 'camera', true, 'camera event RuleEngine/TamperDetector/Tamper')).toEqual({
      kind: 'covered',
      active: true,
      detail: 'camera event RuleEngine/TamperDetector/Tamper',
    });
    expect(s.set('covered', 'checks', true, 'picture check')?.detail).toBe(
      'camera event RuleEngine/TamperDetector/Tamper; picture check',
    );
    expect(s.view()).toEqual({ covered: ['camera', 'checks'] });
    expect(s.set('covered', 'camera', false, '')).toMatchObject({ active: true, detail: 'picture check' });
    expect(s.set('covered', 'checks', false, '')).toEqual({ kind: 'covered', active: false });
    expect(s.set('moved', 'checks', false, '')).toBeNull();
  });

  it('reads encoder settings and event messages as the onvif package hands them over', () => {
    expect(
      parseEncoderConfiguration({
        $: { token: 'enc' },
        encoding: 'H264',
        resolution: { width: 1920, height: 1080 },
        rateControl: { frameRateLimit: 25, bitrateLimit: 4096 },
      }),
    ).toEqual({
      encoding: 'H264',
      width: 1920,
      height: 1080,
      frameRateLimit: 25,
      bitrateLimit: 4096,
      constantBitRate: null,
    });
    expect(parseEncoderConfiguration({ encoding: 'H264' })).toBeNull();
    const message = (topic: string, value: unknown) => ({
      topic: { _: topic, $: { Dialect: 'x' } },
      message: {
        message: {
          $: { UtcTime: new Date(), PropertyOperation: 'Changed' },
          source: { simpleItem: { $: { Name: 'VideoSourceConfigurationToken', Value: 'vs' } } },
          data: { simpleItem: { $: { Name: 'IsTamper', Value: value } } },
        },
      },
    });
    expect(
      parseNotifications({ notificationMessage: message('tns1:RuleEngine/TamperDetector/Tamper', true) }),
    ).toEqual([{ topic: 'RuleEngine/TamperDetector/Tamper', state: true, operation: 'Changed' }]);
    expect(
      parseNotifications({
        notificationMessage: [
          message('tns1:VideoSource/GlobalSceneChange/ImagingService', 'false'),
          { bad: 1 },
        ],
      }),
    ).toEqual([
      { topic: 'VideoSource/GlobalSceneChange/ImagingService', state: false, operation: 'Changed' },
    ]);
    expect(parseNotifications({})).toEqual([]);
  });
});

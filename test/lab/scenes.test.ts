import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipSamples, type ClipSamples } from '../../lab/clip-samples.js';
import { renderScene, type SceneSpec } from '../../lab/scenes.js';
import { DEFAULT_PICTURE_THRESHOLDS } from '../../src/ingest/picture-checks.js';
import { tileStats } from '../../src/ingest/picture.js';
import { PictureWatch } from '../../src/ingest/picture-watch.js';

// A room scene drawn, encoded by x264 and read back with the pull's own ffmpeg arguments, judged by
// the service's PictureWatch: the path of `npm run bench -- pictures`, on one short clip.
const spec: SceneSpec = {
  seed: 7,
  seconds: 56,
  fps: 2,
  width: 1280,
  height: 720,
  rate: 'abr',
  kbps: 273,
  events: [
    { change: 'defocus', from: 16, to: 24 },
    { change: 'covered_bright', from: 28, to: 34 },
    { change: 'frozen', from: 38, to: 46 },
    { change: 'people_close', from: 49, to: 53 },
  ],
};
let dir: string;
let clip: ClipSamples;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scene-test-'));
  const file = path.join(dir, 'clip.mkv');
  await renderScene(spec, file, 'Room 7');
  clip = await clipSamples(file, { width: 320, height: 180, fps: 2 });
}, 60_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a room scene through the picture checks', () => {
  it('is sampled once a second, at 320x180, with the packets of the whole stream', () => {
    expect(clip.samples.length).toBe(spec.seconds);
    expect(clip.samples[5]!.t).toBeCloseTo(5, 1);
    expect(clip.packets.length).toBe(spec.seconds * spec.fps);
  });

  it('raises each change that is a fault while it lasts, and nothing for a person passing the lens', () => {
    const watch = new PictureWatch({
      floors: { minHeight: 720, minFps: 2, minKbps: 34 },
      picture: { ...DEFAULT_PICTURE_THRESHOLDS, referenceAfterMs: 8000 },
    });
    const raised: [string, number][] = [];
    let referenceAt = -1;
    for (const { t, frame } of clip.samples) {
      if (t < 2.5) continue;
      const r = watch.sample(frame, t * 1000);
      if (r.reference) referenceAt = t;
      for (const c of r.changes) if (c.active) raised.push([c.kind, t]);
    }
    expect(referenceAt).toBeGreaterThan(8);
    expect(referenceAt).toBeLessThan(16);
    // Within 5 s of the change (10 s for focus), and nothing else.
    expect(raised.map(([kind]) => kind)).toEqual(['blurred', 'covered', 'frozen']);
    const [blurred, covered, frozen] = raised.map(([, t]) => t);
    expect(blurred! - 16).toBeLessThanOrEqual(10);
    expect(covered! - 28).toBeLessThanOrEqual(5);
    expect(frozen! - 38).toBeLessThanOrEqual(5);
  });

  it('keeps the burnt-in clock sharp through the defocus, as a camera OSD stays', () => {
    const at = (t: number) => tileStats(clip.samples.find((s) => s.t >= t)!.frame).steepness;
    const [before, during] = [at(12), at(20)];
    // Tile 0 holds the clock; the rest of the picture loses its edges.
    expect(during[0]! / before[0]!).toBeGreaterThan(0.8);
    const rest = [...during].map((v, i) => v / before[i]!).slice(8);
    expect(rest.sort((a, b) => a - b)[Math.floor(rest.length / 2)]).toBeLessThan(0.7);
  });
});

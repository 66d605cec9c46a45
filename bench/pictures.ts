/**
 * The picture checks scored on the lab's room scenes (lab/scenes.ts): clips drawn and encoded once
 * (cached in $TMPDIR/exam-lab-scenes), then read with the pull's own ffmpeg arguments and judged by
 * the service's own PictureWatch, on the clips' time, faster than real time. Prints, per fault, the
 * recall and the detection and clearing delays; for the normal variations, the false alarms per
 * camera-hour. Seeds and their split: bench/pictures-split.json. `--tune` searches the thresholds on
 * the tune part and prints the best; without it the held-out part is scored with the defaults.
 * Run: npm run bench -- pictures [--tune]
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { renderScene, type SceneEvent, type SceneSpec } from '../lab/scenes.js';
import { DEFAULT_PICTURE_THRESHOLDS, type PictureThresholds } from '../src/ingest/picture-checks.js';
import { PictureWatch } from '../src/ingest/picture-watch.js';
import { StreamStats } from '../src/ingest/stream-stats.js';
import { cachedClipSamples, type ClipSamples } from '../lab/clip-samples.js';
import { f1, FAULT_CHANGES, pct, printTable, score, type Judged } from './support/picture-score.js';

const split = JSON.parse(readFileSync(new URL('./pictures-split.json', import.meta.url), 'utf8')) as {
  fps: number;
  tune: { faults: number[]; normal: number[] };
  holdout: { faults: number[]; normal: number[] };
};
const FPS = split.fps;
const SAMPLE = { width: 320, height: 180, fps: 2 };
const WARMUP_MS = 2500;
/** Bits per frame of a 2 Mbit/s, 15 fps camera, at the clips' frame rate. */
const KBPS = Math.round((2048 * FPS) / 15);
const FLOORS = { minHeight: 720, minFps: FPS, minKbps: Math.round((256 * FPS) / 15) };

interface Clip {
  name: string;
  spec: SceneSpec;
  /** Whether the camera reports its encoder settings (ONVIF) or not (RTSP only). */
  onvif: boolean;
}

/** Faults of 20 s each, 25 s apart, after 45 s of healthy picture (the reference is taken in it). */
function faultClip(seed: number): Clip {
  const order = FAULT_CHANGES.map((c, i) => FAULT_CHANGES[(i + seed) % FAULT_CHANGES.length]!);
  const events = order.map((change, i) => ({ change, from: 45 + i * 45, to: 65 + i * 45 }));
  return {
    name: `faults-${seed}`,
    spec: {
      seed,
      seconds: 45 + order.length * 45,
      fps: FPS,
      width: 1280,
      height: 720,
      events,
      rate: 'abr',
      kbps: KBPS,
    },
    onvif: seed % 2 === 1,
  };
}

/** Ten minutes of a room in use (every third an empty, quiet room on a VBR encoder). */
function normalClip(seed: number): Clip {
  const empty = seed % 3 === 0;
  const o = (seed % 5) * 7;
  const events: SceneEvent[] = [
    { change: 'encoder_noise', from: 60 + o, to: 100 + o },
    { change: 'lights_off', from: 130 + o, to: 190 + o },
    { change: 'partial_cover', from: 230 + o, to: 270 + o },
    { change: 'ir_night', from: 440 + o, to: 530 + o },
  ];
  if (!empty)
    for (const at of [300, 340, 390]) events.push({ change: 'people_close', from: at + o, to: at + o + 4 });
  return {
    name: `normal-${seed}`,
    spec: {
      seed,
      seconds: 600,
      fps: FPS,
      width: 1280,
      height: 720,
      events,
      empty,
      rate: empty ? 'vbr' : 'abr',
      kbps: KBPS,
    },
    onvif: seed % 2 === 1,
  };
}

const cacheDir = path.join(os.tmpdir(), 'exam-lab-scenes');
/** The drawing code is part of a clip's identity: a change to it draws every clip anew. */
const drawing = ['scenes.ts', 'scene-drawing.ts']
  .map((f) => readFileSync(new URL(`../lab/${f}`, import.meta.url), 'utf8'))
  .join('');

function clipFile(c: Clip): string {
  const key = createHash('sha1').update(JSON.stringify(c.spec)).update(drawing).digest('hex').slice(0, 10);
  return path.join(cacheDir, `${c.name}-${key}.mkv`);
}

async function ensureClip(c: Clip): Promise<string> {
  const file = clipFile(c);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  await renderScene(c.spec, tmp, `Room ${c.spec.seed}`);
  await rename(tmp, file);
  return file;
}

/** Runs jobs two at a time (the machine has two cores). */
async function pooled<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
    }),
  );
  return out;
}

/** Feeds one clip's packets and samples, in time order, through the service's PictureWatch. */
function judge(clip: Clip, data: ClipSamples, t: PictureThresholds): Judged {
  const watch = new PictureWatch({ floors: FLOORS, picture: t });
  watch.setEncoder(
    clip.onvif
      ? {
          encoding: 'H264',
          width: 1280,
          height: 720,
          frameRateLimit: FPS,
          bitrateLimit: KBPS,
          constantBitRate: false,
        }
      : null,
  );
  const stats = new StreamStats();
  const changes: Judged['changes'] = [];
  let referenceAt: number | null = null;
  let judgeMs = 0;
  let p = 0;
  let nextFloor = 500;
  const size = { width: clip.spec.width, height: clip.spec.height };
  for (const { t: ts, frame } of data.samples) {
    const at = ts * 1000;
    for (; p < data.packets.length && (data.packets[p]!.ptsSec ?? 0) * 1000 <= at; p++) {
      const pat = (data.packets[p]!.ptsSec ?? 0) * 1000;
      stats.add(data.packets[p]!, pat);
      for (; nextFloor <= pat; nextFloor += 500)
        for (const c of watch.checkFloors(stats.rates(nextFloor), size))
          changes.push({ ...c, at: nextFloor / 1000 });
    }
    if (at < WARMUP_MS) continue;
    const started = process.hrtime.bigint();
    const r = watch.sample(frame, at);
    judgeMs += Number(process.hrtime.bigint() - started) / 1e6;
    for (const c of r.changes) changes.push({ ...c, at: ts });
    if (r.reference) referenceAt = ts;
  }
  return { clip, changes, referenceAt, judgeMs, samples: data.samples.length };
}

async function load(part: {
  faults: number[];
  normal: number[];
}): Promise<{ clip: Clip; data: ClipSamples }[]> {
  await mkdir(cacheDir, { recursive: true });
  const clips = [...part.faults.map(faultClip), ...part.normal.map(normalClip)];
  const started = Date.now();
  const files = await pooled(clips, ensureClip);
  const drawn = Date.now();
  const data = await pooled(files, (f) => cachedClipSamples(f, SAMPLE));
  process.stdout.write(
    `${clips.length} clips: drawn in ${((drawn - started) / 1000).toFixed(0)} s, ` +
      `sampled in ${((Date.now() - drawn) / 1000).toFixed(0)} s (both cached in ${cacheDir})\n`,
  );
  return clips.map((clip, i) => ({ clip, data: data[i]! }));
}

const run = (set: { clip: Clip; data: ClipSamples }[], t: PictureThresholds) =>
  set.map((c) => judge(c.clip, c.data, t));

/** One threshold at a time, over a range, with the others at their defaults: the middle of what works. */
function tune(set: { clip: Clip; data: ClipSamples }[]): void {
  const grid: [keyof PictureThresholds, number[], string[]][] = [
    ['blurMaxRatio', [0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9], ['defocus']],
    ['movedMinMatch', [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45], ['moved_shift', 'moved_scene']],
    ['frozenNoiseRatio', [0.5, 0.6, 0.7, 0.8, 0.85, 0.9], ['frozen']],
    ['coveredMinFlatShare', [0.5, 0.6, 0.7, 0.75, 0.8, 0.9], ['covered_dark', 'covered_bright']],
  ];
  for (const [key, values, changes] of grid) {
    const ok: number[] = [];
    for (const v of values) {
      const s = score(run(set, { ...DEFAULT_PICTURE_THRESHOLDS, [key]: v }));
      const mine = s.detections.filter((d) => changes.includes(d.change));
      const recall = mine.filter((d) => d.detectS !== null).length / mine.length;
      process.stdout.write(
        `  ${key}=${v}: recall ${(100 * recall).toFixed(0)} %, false alarms ${s.falseAlarms.length}\n`,
      );
      if (recall === 1 && s.falseAlarms.length === 0) ok.push(v);
    }
    const pick = ok.length ? ok[Math.floor((ok.length - 1) / 2)] : null;
    process.stdout.write(`${key}: works for ${ok.join(', ') || 'none'}; middle ${pick ?? '-'}\n`);
  }
}

export async function runPicturesBench(): Promise<void> {
  const tuning = process.argv.includes('--tune');
  const part = tuning ? split.tune : split.holdout;
  process.stdout.write(
    `picture checks on room scenes: ${tuning ? 'tune' : 'held-out'} part, ${FPS} fps clips at 1280x720, ` +
      `samples ${SAMPLE.width}x${SAMPLE.height}\n`,
  );
  const set = await load(part);
  if (tuning) {
    tune(set);
    return;
  }
  const results = run(set, DEFAULT_PICTURE_THRESHOLDS);
  const missingRef = results.filter((r) => r.referenceAt === null).map((r) => r.clip.name);
  const judged = results.reduce((a, r) => a + r.samples, 0);
  const ms = results.reduce((a, r) => a + r.judgeMs, 0);
  printTable(
    `held-out part (${part.faults.length} fault clips, ${part.normal.length} normal clips), thresholds: defaults`,
    score(results),
  );
  process.stdout.write(
    `reference taken by itself after ${f1(
      pct(
        results.map((r) => r.referenceAt ?? NaN).filter((x) => !Number.isNaN(x)),
        50,
      ),
    )} s (median)` +
      `${missingRef.length ? `; never in ${missingRef.join(', ')}` : ''}\n` +
      `judging cost: ${(ms / Math.max(1, judged)).toFixed(2)} ms of node per 320x180 sample (one a second per camera)\n`,
  );
}

/**
 * The room mode of the lab: each camera streams one room scene of lab/scenes.ts, and the scene's
 * changes happen to the running stream. Every change is drawn by the same code as the bench's clips,
 * as a short loop encoded once (cached on disk), and the RTSP server switches loops inside the
 * running session as the scale mode switches its variants: nothing is drawn or encoded while serving.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  osdFilter,
  rateArgs,
  sceneFrames,
  SCENE_CHANGES,
  type SceneChange,
  type SceneSpec,
} from './scenes.js';
import type { VariantFiles, VariantSpec } from './variants.js';

export const ROOM_KINDS = ['classroom', 'empty'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];
/** A scene: `classroom` (4–10 people, ABR at the limit) or `empty` (nobody, VBR under the limit). */
export interface RoomScene {
  kind: RoomKind;
  seed: number;
}

/** `classroom/3`, `empty/7`, or a bare seed (a classroom). */
export function parseScene(text: string): RoomScene {
  const m = /^(?:(classroom|empty)\/)?(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`scene must be <classroom|empty>/<seed>, not ${JSON.stringify(text)}`);
  return { kind: (m[1] ?? 'classroom') as RoomKind, seed: Number(m[2]) };
}

/**
 * The changes that are a lab fault kind are drawn as that fault: injecting `covered` covers the
 * lens with a hand, `blurred` ruins the focus, `moved` knocks the camera aside.
 */
export const FAULT_CHANGES = {
  black: 'black',
  covered: 'covered_dark',
  frozen: 'frozen',
  blurred: 'defocus',
  moved: 'moved_shift',
} as const satisfies Record<string, SceneChange>;

/** The name of a change's loop: the fault kind's for the changes that are one, else its own. */
export function loopName(change: SceneChange): string {
  const fault = Object.entries(FAULT_CHANGES).find(([, c]) => c === change);
  return fault ? fault[0] : change;
}

/** The normal picture steps through the daylight cycle (600 s, as in the clips) in this many loops. */
export const DAYLIGHT_STEPS = 10;
export const DAYLIGHT_CYCLE_S = 600;
/** Seconds drawn per loop; it is played forwards then backwards, so it has no seam. */
const LOOP_SECONDS = 4;
const LOW_FPS = 2;
/**
 * The starved encoder's share of its rate. Not the clips' 6 %: an x264 zone at 6 % inside an ABR clip
 * gives ~92 % of the rate (measured on the bench's clips), while a whole loop at 6 % is the low
 * bitrate fault's picture (1/24), so smeared that the blur check flags it. A quarter shows blocking.
 */
const ENCODER_NOISE_RATE = 0.25;

const drawing = ['scenes.ts', 'scene-drawing.ts', 'room.ts']
  .map((f) => readFileSync(new URL(`./${f}`, import.meta.url), 'utf8'))
  .join('');

interface Output {
  stream: 'main' | 'sub';
  loop: string;
  width: number;
  height: number;
  kbps: number;
  /** Frame rate of the encoded loop (LOW_FPS for the low_fps fault). */
  rate: number;
  /** A still picture: the encoder's quality settled, as a camera's does on a picture that never changes. */
  still?: boolean;
}

/**
 * Draws and encodes the scene's loops for one camera (`name` is burnt in): `normal` and
 * `daylight-1..9` (the daylight cycle), one per fault kind the picture can show and one per other
 * change of SCENE_CHANGES. Cached in `$TMPDIR/exam-lab-rooms`.
 */
export async function prepareRoomVariants(
  spec: VariantSpec,
  scene: RoomScene,
  name: string,
): Promise<VariantFiles> {
  const key = createHash('sha1')
    .update(JSON.stringify({ spec, scene, name, v: 1 }))
    .update(drawing)
    .digest('hex')
    .slice(0, 12);
  const dir = join(tmpdir(), 'exam-lab-rooms', key);
  await mkdir(dir, { recursive: true });
  const files: VariantFiles = { main: {}, sub: {} };
  const outputs = (
    loop: string,
    o: { kbps?: number; low?: 'resolution' | 'bitrate' | 'fps'; still?: boolean } = {},
  ) =>
    (['main', 'sub'] as const).map((stream): Output => {
      const [w, h, kbps] =
        stream === 'main'
          ? [spec.width, spec.height, spec.mainKbps]
          : [spec.subWidth, spec.subHeight, spec.subKbps];
      const div = o.low === 'resolution' ? (stream === 'main' ? 4 : 2) : 1;
      return {
        stream,
        loop,
        width: (w / div) & ~1,
        height: (h / div) & ~1,
        kbps: Math.max(16, Math.round((kbps * (o.kbps ?? 1)) / (o.low === 'bitrate' ? 24 : 1))),
        rate: o.low === 'fps' ? LOW_FPS : spec.fps,
        still: o.still,
      };
    });
  const jobs: { change: SceneChange | null; daylightAt: number; outputs: Output[] }[] = [
    {
      change: null,
      daylightAt: 0,
      outputs: [
        ...outputs('normal'),
        ...outputs('low_resolution', { low: 'resolution' }),
        ...outputs('low_bitrate', { low: 'bitrate' }),
        ...outputs('low_fps', { low: 'fps' }),
      ],
    },
    ...Array.from({ length: DAYLIGHT_STEPS - 1 }, (_, i) => ({
      change: null,
      daylightAt: ((i + 1) * DAYLIGHT_CYCLE_S) / DAYLIGHT_STEPS,
      outputs: outputs(`daylight-${i + 1}`),
    })),
    ...(Object.keys(SCENE_CHANGES) as SceneChange[]).map((change) => ({
      change,
      daylightAt: 0,
      // A starved encoder: the rate the clips' x264 zone gives it.
      outputs: outputs(
        loopName(change),
        change === 'encoder_noise'
          ? { kbps: ENCODER_NOISE_RATE }
          : change === 'frozen'
            ? { still: true }
            : {},
      ),
    })),
  ];
  const todo: (() => Promise<void>)[] = [];
  for (const job of jobs) {
    for (const o of job.outputs)
      files[o.stream][o.loop] = {
        path: join(dir, `${o.stream}-${o.loop}.h264`),
        every: Math.max(1, Math.round(spec.fps / o.rate)),
      };
    if (job.outputs.every((o) => existsSync(files[o.stream][o.loop]!.path))) continue;
    const sceneSpec: SceneSpec = {
      seed: scene.seed,
      seconds: LOOP_SECONDS,
      fps: spec.fps,
      width: spec.width,
      height: spec.height,
      events: job.change ? [{ change: job.change, from: 0, to: LOOP_SECONDS }] : [],
      empty: scene.kind === 'empty',
      rate: scene.kind === 'empty' ? 'vbr' : 'abr',
      kbps: spec.mainKbps,
      daylightAt: job.daylightAt,
    };
    todo.push(() =>
      encodeLoop(
        sceneSpec,
        name,
        job.outputs.map((o) => ({ ...o, path: files[o.stream][o.loop]!.path })),
      ),
    );
  }
  // Two at a time: the machine may be busy with other tests.
  await Promise.all(
    [0, 1].map(async () => {
      for (let job = todo.shift(); job; job = todo.shift()) await job();
    }),
  );
  return files;
}

/** One ffmpeg per change: the drawn loop (forwards, then backwards) with the OSD, to each output. */
async function encodeLoop(spec: SceneSpec, name: string, outs: (Output & { path: string })[]) {
  const frames = [...sceneFrames(spec)];
  const order = [...frames, ...frames.slice(1, -1).reverse()];
  const split = outs.map((_, i) => `[s${i}]`).join('');
  const graph = [
    `[0:v]${osdFilter(spec.height, name)},split=${outs.length}${split}`,
    ...outs.map(
      (o, i) => `[s${i}]scale=${o.width}:${o.height}${o.rate !== spec.fps ? `,fps=${o.rate}` : ''}[o${i}]`,
    ),
  ].join(';');
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...[
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      '-s',
      `${spec.width}x${spec.height}`,
      '-r',
      String(spec.fps),
    ],
    ...['-i', 'pipe:0', '-filter_complex', graph],
    ...outs.flatMap((o, i) => [
      ...['-map', `[o${i}]`, '-c:v', 'libx264', '-preset', 'superfast', '-tune', 'zerolatency'],
      // One slice per picture, a keyframe a second, SPS/PPS and access unit delimiters in band:
      // the RTSP server splits the loop at the delimiters and starts it again at its first IDR.
      ...['-threads', '1', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p'],
      ...['-g', String(o.rate), '-keyint_min', String(o.rate), '-sc_threshold', '0'],
      // A still picture under ABR: x264 re-encodes it at each keyframe with a quantiser still settling
      // over a short loop; a camera's encoder has long settled, and repeats it nearly unchanged.
      ...(o.still ? ['-qp', '20'] : rateArgs(spec.rate, o.kbps)),
      ...['-x264-params', 'aud=1:repeat-headers=1', '-f', 'h264', `${o.path}.${process.pid}.tmp`],
    ]),
  ];
  const ff = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  ff.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const exited = once(ff, 'close') as Promise<[number | null]>;
  for (const frame of order) {
    if (!ff.stdin.write(frame)) await Promise.race([once(ff.stdin, 'drain'), exited]);
    if (ff.exitCode !== null) break;
  }
  ff.stdin.end();
  const [code] = await exited;
  if (code !== 0) throw new Error(`room loop encoding failed (${code}): ${err.trim()}`);
  // Atomic: parallel labs never read a half-written loop.
  for (const o of outs) await rename(`${o.path}.${process.pid}.tmp`, o.path);
}

/**
 * Room-like scenes for judging the picture checks: a classroom (walls with plaster texture, a window,
 * a blackboard with writing, desks, posters), people sitting and walking, sensor noise, a slow daylight
 * change and a burnt-in clock; and the changes that happen to a running camera in life, placed on the
 * scene's timeline. Frames are drawn here (deterministic from a seed) and encoded by x264 into a clip
 * with a keyframe a second, as cameras are set; the clock is drawn by ffmpeg after the picture, so it
 * keeps ticking through a frozen picture and stays sharp through a defocus, as a camera's OSD does.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  drawPerson,
  drawRoom,
  fillEllipse,
  fillRect,
  gaussian,
  mirror,
  people,
  planes,
  rng,
} from './scene-drawing.js';

export { rng } from './scene-drawing.js';

/** What happens to the camera; `fault` is the picture fault it must raise, null: it must raise none. */
export const SCENE_CHANGES = {
  black: { fault: 'black', what: 'no picture: black, the burnt-in clock still drawn' },
  covered_dark: { fault: 'covered', what: 'lens covered by a hand or cloth: dark and flat' },
  covered_bright: { fault: 'covered', what: 'lens covered by paper with light behind it: bright and flat' },
  frozen: { fault: 'frozen', what: 'sensor picture frozen (noise too) while the burnt-in clock ticks' },
  defocus: { fault: 'blurred', what: 'focus ruined: Gaussian blur of sigma 6 px at 720p, clock sharp' },
  moved_shift: { fault: 'moved', what: 'camera knocked aside: the view shifts by 25 % of its size' },
  moved_scene: { fault: 'moved', what: 'camera turned to another scene (corridor, another wall)' },
  lights_off: { fault: null, what: 'room lights off (window still lit), then on again' },
  partial_cover: { fault: null, what: 'a hand or object covering 40 % of the picture' },
  people_close: { fault: null, what: 'a person passing close to the lens (up to half the picture, 4 s)' },
  ir_night: { fault: null, what: 'night: lights off, the camera switches to IR greyscale with more noise' },
  encoder_noise: { fault: null, what: 'the encoder starved for a while: heavy blocking and smearing' },
} as const;
export type SceneChange = keyof typeof SCENE_CHANGES;

export interface SceneEvent {
  change: SceneChange;
  /** Seconds from the start of the clip. */
  from: number;
  to: number;
}

export interface SceneSpec {
  seed: number;
  seconds: number;
  fps: number;
  width: number;
  height: number;
  events: SceneEvent[];
  /** An empty, quiet room (nobody in it): the VBR static scene. */
  empty?: boolean;
  /** abr: the bitrate held near the limit; vbr: constant quality under the limit (smart codecs). */
  rate: 'abr' | 'vbr';
  /** The encoder's bitrate limit, kbit/s at this clip's frame rate. */
  kbps: number;
  /** Seconds of the daylight cycle already gone at the first frame (the live lab's daylight steps). */
  daylightAt?: number;
}

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';
/** 2026-12-01 00:00 UTC, the burnt-in clock's start. */
const CLOCK_START = 1796083200;

/** Gaussian sensor noise (std 1), longer than a picture, read from a random offset each frame. */
const NOISE = (() => {
  const r = rng(7);
  const n = new Float32Array(1280 * 720 + 65536);
  for (let i = 0; i < n.length; i += 2) {
    const a = Math.sqrt(-2 * Math.log(r() + 1e-12));
    const b = 2 * Math.PI * r();
    n[i] = a * Math.cos(b);
    n[i + 1] = a * Math.sin(b);
  }
  return n;
})();

const active = (events: SceneEvent[], t: number) =>
  new Set(events.filter((e) => t >= e.from && t < e.to).map((e) => e.change));

/** Draws the scene's frames in order (YUV 4:2:0 bytes of the view). */
export function* sceneFrames(spec: SceneSpec): Generator<Buffer> {
  const { width: w, height: h, fps } = spec;
  const r = rng(spec.seed * 7919);
  const ww = Math.round(w * 1.5);
  const wh = Math.round(h * 1.5);
  const room = drawRoom(ww, wh, spec.seed);
  // Turned to another scene: another room's far wall, seen the other way round and from higher up.
  const aside = mirror(drawRoom(ww, wh, spec.seed + 100_000));
  const crowd = spec.empty ? [] : people(ww, wh, spec.seed);
  const home = { x: Math.round((ww - w) / 2), y: Math.round((wh - h) / 2) };
  // Knocked aside: by a quarter of the view, in a direction of its own per seed.
  const shift = [
    [-1, -1],
    [1, 1],
    [-1, 1],
    [1, -1],
  ][spec.seed % 4]!;
  const dayNoise = 1.5 + r() * 2;
  const dayPhase = r() * 2 * Math.PI;
  const out = planes(w, h);
  let frozen: Buffer | null = null;
  const lutRoom = new Uint8ClampedArray(256);
  const lutWindow = new Uint8ClampedArray(256);
  for (let n = 0; n < spec.seconds * fps; n++) {
    const t = n / fps;
    const on = active(spec.events, t);
    if (on.has('frozen') && frozen) {
      yield frozen;
      continue;
    }
    const moved = on.has('moved_shift') ? 1 : 0;
    const src = on.has('moved_scene') ? aside : room;
    const ox = home.x + moved * shift[0]! * Math.round(w / 4);
    const oy = src === aside ? 0 : home.y + moved * shift[1]! * Math.round(h / 4);
    for (let y = 0; y < h; y++)
      out.y.set(src.pic.y.subarray((y + oy) * ww + ox, (y + oy) * ww + ox + w), y * w);
    for (let y = 0; y < h / 2; y++) {
      const o = (y + oy / 2) * (ww / 2) + ox / 2;
      out.u.set(src.pic.u.subarray(o, o + w / 2), (y * w) / 2);
      out.v.set(src.pic.v.subarray(o, o + w / 2), (y * w) / 2);
    }
    for (const who of crowd) drawPerson(out, who, t, ox, oy);
    // Daylight drifts over the clip; the lamps light the room, the window follows the sky.
    const dayT = t + (spec.daylightAt ?? 0);
    const day = 0.85 + 0.2 * Math.sin(dayPhase + (2 * Math.PI * dayT) / Math.max(600, spec.seconds));
    const night = on.has('ir_night');
    const lampsOff = night || on.has('lights_off');
    const roomGain = night ? 0.75 : lampsOff ? 0.25 + 0.25 * day : 0.9 + 0.1 * day;
    const windowGain = night ? 0.25 : day;
    for (let v = 0; v < 256; v++) {
      lutRoom[v] = night ? 30 + v * roomGain * 0.8 : v * roomGain;
      lutWindow[v] = v * windowGain;
    }
    for (let y = 0; y < h; y++) {
      const row = (y + oy) * ww + ox;
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        out.y[i] = src.window[row + x] ? lutWindow[out.y[i]!]! : lutRoom[out.y[i]!]!;
      }
    }
    if (night) {
      out.u.fill(128);
      out.v.fill(128);
    }
    if (on.has('black')) fillRect(out, 0, 0, w, h, [16, 128, 128]);
    if (on.has('covered_dark') || on.has('covered_bright')) {
      const base = on.has('covered_dark') ? 38 : 200;
      fillRect(out, 0, 0, w, h, [base, 124, 134]);
      // Not perfectly even: light leaks past the edge of a hand or through paper.
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out.y[y * w + x] = base + 18 * (x / w) * (y / h);
    }
    if (on.has('partial_cover')) {
      const cw = w * 0.5;
      const ch = h * 0.8;
      fillRect(out, spec.seed % 2 ? 0 : w - cw, h - ch, cw, ch, [45, 124, 134]);
    }
    if (on.has('people_close')) {
      const e = spec.events.find((x) => x.change === 'people_close' && t >= x.from && t < x.to)!;
      const k = (t - e.from) / (e.to - e.from);
      fillEllipse(out, -w * 0.3 + k * w * 1.6, h * 0.75, w * 0.3, h * 0.65, [50, 120, 136]);
    }
    if (on.has('defocus')) gaussian(out, (6 * w) / 1280);
    // Sensor noise after the lens: stronger at night (more gain).
    const sigma = night ? 6 : on.has('black') ? 1 : dayNoise;
    const off = Math.floor(r() * 65536);
    for (let i = 0; i < out.y.length; i++) out.y[i] = out.y[i]! + sigma * NOISE[off + i]!;
    const frame = Buffer.from(out.bytes);
    frozen = on.has('frozen') ? frame : null;
    yield frame;
  }
}

/** The camera's OSD, burnt in after the picture: its clock (from the frames' timestamps) and name. */
export function osdFilter(height: number, name: string): string {
  const font = Math.round(height / 26);
  const clock = `drawtext=fontfile=${FONT}:fontsize=${font}:fontcolor=white:box=1:boxcolor=black@0.6:x=16:y=16:text='%{pts\\:gmtime\\:${CLOCK_START}\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}'`;
  const label = `drawtext=fontfile=${FONT}:fontsize=${font}:fontcolor=white:box=1:boxcolor=black@0.6:x=w-tw-16:y=h-th-16:text='${name}'`;
  return `${clock},${label}`;
}

/** x264 rate control like a camera's: ABR held at the limit, or a "smart" VBR under it. */
export function rateArgs(rate: SceneSpec['rate'], kbps: number): string[] {
  return rate === 'abr'
    ? ['-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`]
    : ['-crf', '30', '-maxrate', `${kbps}k`, '-bufsize', `${kbps * 2}k`];
}

/** ffmpeg: the drawn frames (raw on stdin) with the clock and name burnt in, encoded like a camera. */
export function encodeArgs(spec: SceneSpec, outPath: string, name: string): string[] {
  const fps = spec.fps;
  // A starved encoder for a while: x264 zones scale the bitrate of a span of frames.
  const zones = spec.events
    .filter((e) => e.change === 'encoder_noise')
    .map((e) => `${Math.round(e.from * fps)},${Math.round(e.to * fps) - 1},b=0.06`)
    .join('/');
  return [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${spec.width}x${spec.height}`, '-r', String(fps)],
    ...['-i', 'pipe:0', '-vf', osdFilter(spec.height, name)],
    ...['-c:v', 'libx264', '-preset', 'superfast', '-tune', 'zerolatency', '-threads', '1'],
    ...[
      '-g',
      String(fps),
      '-keyint_min',
      String(fps),
      '-sc_threshold',
      '0',
      ...rateArgs(spec.rate, spec.kbps),
    ],
    ...(zones ? ['-x264-params', `zones=${zones}`] : []),
    ...['-f', 'matroska', outPath],
  ];
}

/** Draws and encodes one scene clip to `outPath` (Matroska, H.264). */
export async function renderScene(spec: SceneSpec, outPath: string, name: string): Promise<void> {
  const ff = spawn('ffmpeg', encodeArgs(spec, outPath, name), { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  ff.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const exited = once(ff, 'close') as Promise<[number | null]>;
  for (const frame of sceneFrames(spec)) {
    if (!ff.stdin.write(frame)) await Promise.race([once(ff.stdin, 'drain'), exited]);
    if (ff.exitCode !== null) break;
  }
  ff.stdin.end();
  const [code] = await exited;
  if (code !== 0) throw new Error(`scene encoding failed (${code}): ${err.trim()}`);
}

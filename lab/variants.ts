import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const VARIANTS = [
  'normal',
  'black',
  'covered',
  'frozen',
  'blurred',
  'moved',
  'low_resolution',
  'low_bitrate',
  'low_fps',
] as const;
export type VariantName = (typeof VARIANTS)[number];

export interface VariantSpec {
  width: number;
  height: number;
  subWidth: number;
  subHeight: number;
  fps: number;
  mainKbps: number;
  subKbps: number;
}

/** Loop files per stream and variant name; `every`: one picture per that many frame periods. */
export type VariantFiles = Record<'main' | 'sub', Record<string, { path: string; every: number }>>;

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const LOW_FPS = 2;

/**
 * Encodes each picture variant once (a 2 s loop starting with an IDR and with SPS/PPS and access
 * unit delimiters in band) so the scale mode can loop them without any encoding. Cached on disk.
 */
export async function prepareVariants(spec: VariantSpec): Promise<VariantFiles> {
  const key = createHash('sha1')
    .update(JSON.stringify({ spec, v: 7 }))
    .digest('hex')
    .slice(0, 12);
  const dir = join(tmpdir(), 'exam-lab-variants', key);
  await mkdir(dir, { recursive: true });
  const out: VariantFiles = { main: {}, sub: {} };
  const jobs: (() => Promise<void>)[] = [];
  for (const kind of ['main', 'sub'] as const) {
    const [w, h, kbps] =
      kind === 'main'
        ? [spec.width, spec.height, spec.mainKbps]
        : [spec.subWidth, spec.subHeight, spec.subKbps];
    for (const v of VARIANTS) {
      const path = join(dir, `${kind}-${v}.h264`);
      const every = v === 'low_fps' ? Math.max(1, Math.round(spec.fps / LOW_FPS)) : 1;
      out[kind][v] = { path, every };
      if (existsSync(path)) continue;
      jobs.push(async () => {
        const tmp = `${path}.${process.pid}.tmp`;
        await run('ffmpeg', ffmpegArgs(v, kind, w, h, spec.fps, kbps, tmp), { timeout: 120_000 });
        await rename(tmp, path); // atomic: parallel labs never read a half-written file
      });
    }
  }
  // Two at a time: the machine may be busy with other tests.
  const queue = [...jobs];
  await Promise.all(
    [0, 1].map(async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );
  return out;
}

/** Strength of the temporal noise in every scene (ffmpeg `noise` filter, 0–100). */
const NOISE = 8;

function ffmpegArgs(
  v: VariantName,
  kind: 'main' | 'sub',
  w: number,
  h: number,
  fps: number,
  kbps: number,
  outPath: string,
): string[] {
  const seconds = 2;
  const rate = v === 'low_fps' ? LOW_FPS : fps;
  const frames = seconds * rate;
  const box = Math.max(8, Math.round(h / 10));
  const font = Math.max(10, Math.round(h / 24));
  // Scene: colour bars with a white block circling once per loop, so the loop is seamless, and
  // sensor-like noise, so the encoder spends the configured bitrate as a real camera's does. The
  // frozen picture is a still without noise: each loop's keyframe re-encodes it the same way.
  const bars =
    `smptebars=size=${w}x${h}:rate=${rate}[bg];color=white:size=${box}x${box}:rate=${rate}[blk];` +
    `[bg][blk]overlay=x='W/2-w/2+W/4*cos(2*PI*t/${seconds})':y='H/2-h/2+H/4*sin(2*PI*t/${seconds})'`;
  const scene = `${bars},noise=alls=${NOISE}:allf=t`;
  const label = `drawtext=fontfile=${FONT}:text='LAB ${kind}':fontsize=${font}:fontcolor=white:box=1:boxcolor=black@0.5:x=8:y=8`;
  const dx = Math.round(w / 4);
  const dy = Math.round(h / 5);
  let filter: string;
  switch (v) {
    case 'black':
      filter = `color=black:size=${w}x${h}:rate=${rate},${label}`;
      break;
    case 'covered':
      filter = `color=0x302c28:size=${w}x${h}:rate=${rate},${label}`;
      break;
    case 'frozen':
      filter = `${bars},trim=end_frame=1,loop=loop=-1:size=1,setpts=N/${rate}/TB,${label}`;
      break;
    case 'blurred':
      filter = `${scene},boxblur=${Math.max(2, Math.round(h / 24))}:2,${label}`;
      break;
    case 'moved':
      filter = `${scene},crop=${w - dx}:${h - dy}:${dx}:${dy},pad=${w}:${h}:0:0,${label}`;
      break;
    case 'low_resolution': {
      const div = kind === 'main' ? 4 : 2;
      filter = `${scene},${label},scale=${(w / div) & ~1}:${(h / div) & ~1}`;
      break;
    }
    default:
      filter = `${scene},${label}`;
  }
  const bitrate = v === 'low_bitrate' ? Math.max(16, Math.round(kbps / 24)) : kbps;
  return [
    '-v',
    'error',
    '-y',
    '-filter_complex',
    filter,
    '-frames:v',
    String(frames),
    '-c:v',
    'libx264',
    // One slice per picture (zerolatency slices it per thread): the payloader puts SPS/PPS before
    // every IDR slice, and players take each for the start of a new picture (keyframes split).
    '-threads',
    '1',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-profile:v',
    'baseline',
    '-pix_fmt',
    'yuv420p',
    // A keyframe a second, as cameras are commonly set (I-frame interval = frame rate).
    '-g',
    String(rate),
    '-keyint_min',
    String(rate),
    '-sc_threshold',
    '0',
    '-b:v',
    `${bitrate}k`,
    '-maxrate',
    `${bitrate}k`,
    '-bufsize',
    `${bitrate}k`,
    '-x264-params',
    'aud=1:repeat-headers=1',
    '-f',
    'h264',
    outPath,
  ];
}

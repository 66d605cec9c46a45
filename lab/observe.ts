/**
 * An outside observer of lab cameras: ffprobe/ffmpeg against the RTSP URLs, and simple picture
 * statistics on decoded grey frames. Used by the lab's tests; handy for other areas' tests too.
 */
import { spawn } from 'node:child_process';

export type Transport = 'tcp' | 'udp';

export interface ProbedStream {
  codec: string;
  width: number;
  height: number;
  fps: number;
}

interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command with a hard deadline (SIGKILL), collecting stdout. */
export function runWithDeadline(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err, timedOut });
    });
  });
}

/** ffprobe's view of the first video stream; throws with ffprobe's message when it fails. */
export async function probe(
  url: string,
  transport: Transport = 'tcp',
  timeoutMs = 15_000,
): Promise<ProbedStream> {
  const r = await runWithDeadline(
    'ffprobe',
    [
      '-v',
      'error',
      '-rtsp_transport',
      transport,
      '-timeout',
      String((timeoutMs - 1000) * 1000), // microseconds in ffmpeg 5.1
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,width,height,r_frame_rate',
      '-of',
      'json',
      url,
    ],
    timeoutMs,
  );
  if (r.code !== 0 || r.timedOut)
    throw new Error(`ffprobe failed (${r.timedOut ? 'timeout' : r.code}): ${r.stderr}`);
  const s = (
    JSON.parse(r.stdout.toString()) as {
      streams: { codec_name: string; width: number; height: number; r_frame_rate: string }[];
    }
  ).streams[0];
  if (!s) throw new Error('no video stream');
  const [n, d] = s.r_frame_rate.split('/').map(Number);
  return { codec: s.codec_name, width: s.width, height: s.height, fps: (n ?? 0) / (d || 1) };
}

export interface GrabOptions {
  frames?: number;
  width?: number;
  height?: number;
  transport?: Transport;
  timeoutMs?: number;
  /** Frames decoded and thrown away first (decoder warm-up). */
  skip?: number;
}

export interface GreyFrames {
  width: number;
  height: number;
  frames: Uint8Array[];
  /** Presentation times (s) of the frames, from the stream's timestamps. */
  elapsedMs: number;
}

/** Decodes frames scaled to small grey images. Rejects when they do not arrive before the deadline. */
export async function grabGrey(url: string, o: GrabOptions = {}): Promise<GreyFrames> {
  const w = o.width ?? 64;
  const h = o.height ?? 36;
  const n = o.frames ?? 5;
  const skip = o.skip ?? 2;
  const timeoutMs = o.timeoutMs ?? 15_000;
  const started = Date.now();
  const r = await runWithDeadline(
    'ffmpeg',
    [
      '-v',
      'error',
      '-rtsp_transport',
      o.transport ?? 'tcp',
      '-timeout',
      String(Math.max(1, timeoutMs - 1000) * 1000),
      '-i',
      url,
      '-an',
      '-vf',
      `select=gte(n\\,${skip}),scale=${w}:${h},format=gray`,
      '-fps_mode',
      'passthrough',
      '-frames:v',
      String(n),
      '-f',
      'rawvideo',
      '-',
    ],
    timeoutMs,
  );
  const size = w * h;
  const frames: Uint8Array[] = [];
  for (let off = 0; off + size <= r.stdout.length; off += size)
    frames.push(r.stdout.subarray(off, off + size));
  if (frames.length < n) {
    throw new Error(
      `got ${frames.length}/${n} frames (${r.timedOut ? 'timeout' : `exit ${r.code}`}): ${r.stderr.trim()}`,
    );
  }
  return { width: w, height: h, frames, elapsedMs: Date.now() - started };
}

export function mean(f: Uint8Array): number {
  let s = 0;
  for (const v of f) s += v;
  return s / f.length;
}

export function stddev(f: Uint8Array): number {
  const m = mean(f);
  let s = 0;
  for (const v of f) s += (v - m) ** 2;
  return Math.sqrt(s / f.length);
}

/** Mean squared horizontal+vertical gradient: falls sharply when the picture is blurred. */
export function sharpness(f: Uint8Array, width: number): number {
  const height = f.length / width;
  let s = 0;
  let n = 0;
  for (let y = 0; y < height - 1; y++) {
    for (let x = 0; x < width - 1; x++) {
      const i = y * width + x;
      const dx = (f[i + 1] ?? 0) - (f[i] ?? 0);
      const dy = (f[i + width] ?? 0) - (f[i] ?? 0);
      s += dx * dx + dy * dy;
      n++;
    }
  }
  return s / n;
}

/** Mean absolute difference of two frames of the same size. */
export function diff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs((a[i] ?? 0) - (b[i] ?? 0));
  return s / a.length;
}

/** Largest difference between consecutive frames: near zero for a frozen picture. */
export function maxConsecutiveDiff(frames: Uint8Array[]): number {
  let m = 0;
  for (let i = 1; i < frames.length; i++) m = Math.max(m, diff(frames[i - 1]!, frames[i]!));
  return m;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs = 20_000, intervalMs = 300, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Share of pixels that changed by more than `threshold` grey levels: ~0 for a frozen picture. */
export function changedFraction(a: Uint8Array, b: Uint8Array, threshold = 40): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs((a[i] ?? 0) - (b[i] ?? 0)) > threshold) n++;
  return n / a.length;
}

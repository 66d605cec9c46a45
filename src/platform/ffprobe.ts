import type { ProcessSupervisor } from './processes.js';

/** The first video stream of an input as ffprobe reports it; a field ffprobe left out is null. */
export interface ProbedVideo {
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  durationMs: number | null;
}

export type ProbeResult =
  /** ffprobe answered; `video` is null when the input has no video stream. */
  | { ok: true; video: ProbedVideo | null }
  /** ffprobe failed (`unreadable`: it exited 0 but printed no JSON). */
  | {
      ok: false;
      code: number | null;
      stderr: string;
      timedOut: boolean;
      elapsedMs: number;
      unreadable?: true;
    };

/**
 * ffprobe's argv for the first video stream of an input, as JSON. `input` is what selects the input:
 * a file path, or `-f concat … -i pipe:0` when the input list comes on stdin.
 */
export function probeArgs(input: string[]): string[] {
  return [
    '-v',
    'error',
    ...input,
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height,avg_frame_rate,r_frame_rate:format=duration',
    '-of',
    'json',
  ];
}

/**
 * ffprobe behind one wrapper, run by the process supervisor: what an input's first video stream is.
 * Callers decide what a failure means (a camera error, a damaged file).
 */
export class Ffprobe {
  constructor(
    private readonly processes: ProcessSupervisor,
    private readonly path = 'ffprobe',
  ) {}

  async firstVideo(input: string[], opts: { timeoutMs: number; stdin?: string }): Promise<ProbeResult> {
    const started = Date.now();
    const r = await this.processes.run('ffprobe', this.path, probeArgs(input), {
      timeoutMs: opts.timeoutMs,
      input: opts.stdin,
    });
    const failed = { ok: false as const, code: r.code, stderr: r.stderr, timedOut: r.timedOut };
    const elapsedMs = Date.now() - started;
    if (r.timedOut || r.code !== 0) return { ...failed, elapsedMs };
    let parsed: {
      streams?: {
        codec_name?: string;
        width?: number;
        height?: number;
        avg_frame_rate?: string;
        r_frame_rate?: string;
      }[];
      format?: { duration?: string };
    };
    try {
      parsed = JSON.parse(r.stdout.toString()) as typeof parsed;
    } catch {
      return { ...failed, elapsedMs, unreadable: true };
    }
    const s = parsed.streams?.[0];
    if (!s) return { ok: true, video: null };
    const duration = Number(parsed.format?.duration);
    return {
      ok: true,
      video: {
        codec: s.codec_name ?? null,
        width: s.width ?? null,
        height: s.height ?? null,
        fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate),
        durationMs: Number.isFinite(duration) && duration > 0 ? Math.round(duration * 1000) : null,
      },
    };
  }
}

/** An ffprobe rate ("30000/1001") in frames per second, two decimals; null when it has none. */
function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [n, d] = r.split('/').map(Number);
  if (!n || !d) return null;
  return Math.round((n / d) * 100) / 100;
}

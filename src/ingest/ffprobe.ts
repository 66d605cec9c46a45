import { DeviceError } from '../platform/errors.js';
import { probeArgs } from './ffmpeg-args.js';
import { classifyFailure, stripUrlCredentials } from './ffmpeg-output.js';
import type { ProcessSupervisor } from './process-supervisor.js';

export interface ProbedStream {
  codec: string;
  width: number;
  height: number;
  fps: number | null;
}

/** Codecs the supervisor can record and check (`-c copy` into segments, decoded for checks). */
export const SUPPORTED_CODECS = new Set(['h264', 'hevc']);

/** ffprobe behind one wrapper: what a stream carries, or a DeviceError saying why it cannot be read. */
export class Ffprobe {
  constructor(
    private readonly processes: ProcessSupervisor,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  async probe(url: string): Promise<ProbedStream> {
    const safe = stripUrlCredentials(url);
    // ffmpeg's own socket timeout first, then a hard deadline a little later.
    const started = Date.now();
    const r = await this.processes.run('ffprobe', this.path, probeArgs(url, this.timeoutMs), {
      timeoutMs: this.timeoutMs + 2000,
    });
    if (r.timedOut) throw new DeviceError('stream_timeout', `${safe}: no answer within ${this.timeoutMs} ms`);
    if (r.code !== 0) {
      // A server that accepts and never answers ends in a vague read error once ffmpeg's timeout passes.
      const slow = Date.now() - started >= this.timeoutMs * 0.9;
      throw streamError(safe, r.stderr, this.timeoutMs, slow);
    }
    let parsed: {
      streams?: {
        codec_name?: string;
        width?: number;
        height?: number;
        avg_frame_rate?: string;
        r_frame_rate?: string;
      }[];
    };
    try {
      parsed = JSON.parse(r.stdout.toString()) as typeof parsed;
    } catch {
      throw new DeviceError('stream_unreadable', `${safe}: ffprobe gave no readable answer`);
    }
    const s = parsed.streams?.[0];
    if (!s) throw new DeviceError('no_video', `${safe}: the stream carries no video`);
    const codec = s.codec_name ?? 'unknown';
    if (!SUPPORTED_CODECS.has(codec))
      throw new DeviceError(
        'unsupported_codec',
        `${safe}: codec ${codec} is not supported (H.264 or H.265 needed)`,
      );
    return {
      codec,
      width: s.width ?? 0,
      height: s.height ?? 0,
      fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate),
    };
  }
}

function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [n, d] = r.split('/').map(Number);
  if (!n || !d) return null;
  return Math.round((n / d) * 100) / 100;
}

/** The specific, operator-facing error for a stream that could not be opened. */
export function streamError(
  safeUrl: string,
  stderr: string,
  timeoutMs: number,
  timedOut = false,
): DeviceError {
  const classified = classifyFailure(stderr);
  const vague = classified.reason === 'stream_ended' || classified.reason === 'error';
  const { reason, detail } = timedOut && vague ? { ...classified, reason: 'timeout' as const } : classified;
  switch (reason) {
    case 'auth_refused':
      return new DeviceError(
        'rtsp_auth_refused',
        `${safeUrl}: the camera refused the RTSP user name or password`,
      );
    case 'not_found':
      return new DeviceError('stream_not_found', `${safeUrl}: the camera has no stream at this path`);
    case 'connection_refused':
    case 'host_unreachable':
      return new DeviceError('stream_unreachable', `${safeUrl}: cannot connect (${detail})`);
    case 'timeout':
      return new DeviceError('stream_timeout', `${safeUrl}: no answer within ${timeoutMs} ms`);
    case 'unsupported':
      return new DeviceError('unsupported_codec', `${safeUrl}: ${detail}`);
    default:
      return new DeviceError('stream_unreadable', `${safeUrl}: ${detail}`);
  }
}

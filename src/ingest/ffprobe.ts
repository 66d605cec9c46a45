import { DeviceError } from '../platform/errors.js';
import { Ffprobe } from '../platform/ffprobe.js';
import type { ProcessSupervisor } from '../platform/processes.js';
import { cameraInputArgs, cameraInputList } from './ffmpeg-args.js';
import { classifyFailure, stripUrlCredentials } from './ffmpeg-output.js';

export interface ProbedStream {
  codec: string;
  width: number;
  height: number;
  fps: number | null;
}

/** Codecs the supervisor can record and check (`-c copy` into segments, decoded for checks). */
export const SUPPORTED_CODECS = new Set(['h264', 'hevc']);

/** What a camera stream carries, or a DeviceError saying why it cannot be read. */
export class CameraProbe {
  private readonly ffprobe: Ffprobe;

  constructor(
    processes: ProcessSupervisor,
    path: string,
    private readonly timeoutMs: number,
  ) {
    this.ffprobe = new Ffprobe(processes, path);
  }

  /** `url` has been checked by camera-address (rebuilt, network policy) before it gets here. */
  async probe(url: string): Promise<ProbedStream> {
    const safe = stripUrlCredentials(url);
    // ffmpeg's own socket timeout first, then a hard deadline a little later.
    const r = await this.ffprobe.firstVideo(cameraInputArgs(), {
      timeoutMs: this.timeoutMs + 2000,
      stdin: cameraInputList(url, this.timeoutMs),
    });
    if (!r.ok) {
      if (r.timedOut)
        throw new DeviceError('stream_timeout', `${safe}: no answer within ${this.timeoutMs} ms`);
      if (r.unreadable)
        throw new DeviceError('stream_unreadable', `${safe}: ffprobe gave no readable answer`);
      // A server that accepts and never answers ends in a vague read error once ffmpeg's timeout passes.
      throw streamError(safe, r.stderr, this.timeoutMs, r.elapsedMs >= this.timeoutMs * 0.9);
    }
    const s = r.video;
    if (!s) throw new DeviceError('no_video', `${safe}: the stream carries no video`);
    const codec = s.codec ?? 'unknown';
    if (!SUPPORTED_CODECS.has(codec))
      throw new DeviceError(
        'unsupported_codec',
        `${safe}: codec ${codec} is not supported (H.264 or H.265 needed)`,
      );
    return { codec, width: s.width ?? 0, height: s.height ?? 0, fps: s.fps };
  }
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

import { spawn, type ChildProcess } from 'node:child_process';
import { probeArgs, verifyDecodeArgs } from './ffmpeg-args.js';

/** The one place the recording module runs ffmpeg and ffprobe. */
export class Ffmpeg {
  constructor(
    readonly ffmpegPath = 'ffmpeg',
    readonly ffprobePath = 'ffprobe',
  ) {}

  run(bin: 'ffmpeg' | 'ffprobe', args: string[], timeoutMs = 120_000) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(bin === 'ffmpeg' ? this.ffmpegPath : this.ffprobePath, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < 64_000) stderr += d.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Codec, size and duration of a file's first video stream; null when it has none or is unreadable. */
  async probe(
    file: string,
  ): Promise<{ codec: string; width: number; height: number; durationMs: number } | null> {
    const r = await this.run('ffprobe', probeArgs(file));
    if (r.code !== 0) return null;
    try {
      const j = JSON.parse(r.stdout) as {
        streams?: { codec_name?: string; width?: number; height?: number }[];
        format?: { duration?: string };
      };
      const s = j.streams?.[0];
      const duration = Number(j.format?.duration);
      if (!s?.codec_name || !Number.isFinite(duration) || duration <= 0) return null;
      return {
        codec: s.codec_name,
        width: s.width ?? 0,
        height: s.height ?? 0,
        durationMs: Math.round(duration * 1000),
      };
    } catch {
      return null;
    }
  }

  /** True when every frame decodes without a complaint. */
  async decodesCleanly(file: string): Promise<boolean> {
    const r = await this.run('ffmpeg', verifyDecodeArgs(file));
    return r.code === 0 && r.stderr.trim() === '';
  }

  /** A long-running ffmpeg whose stdout the caller streams (HLS segments, exports). */
  stream(args: string[]): ChildProcess {
    return spawn(this.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  }
}

import { Ffprobe } from '../platform/ffprobe.js';
import type { ManagedProcess, ProcessSupervisor } from '../platform/processes.js';
import { verifyDecodeArgs } from './ffmpeg-args.js';

/** Longest a one-shot ffmpeg or ffprobe of the recording module may run by default. */
const RUN_TIMEOUT_MS = 120_000;

/** ffmpeg and ffprobe as the recording module uses them, every process run by the supervisor. */
export class Ffmpeg {
  private readonly ffprobe: Ffprobe;

  constructor(
    private readonly processes: ProcessSupervisor,
    readonly ffmpegPath = 'ffmpeg',
    ffprobePath = 'ffprobe',
  ) {
    this.ffprobe = new Ffprobe(processes, ffprobePath);
  }

  /** Runs ffmpeg to completion; a run past its deadline is stopped. */
  async run(args: string[], timeoutMs = RUN_TIMEOUT_MS): Promise<{ code: number | null; stderr: string }> {
    const r = await this.processes.run('ffmpeg', this.ffmpegPath, args, { timeoutMs });
    return { code: r.code, stderr: r.stderr };
  }

  /** Codec, size and duration of a file's first video stream; null when it has none or is unreadable. */
  async probe(
    file: string,
  ): Promise<{ codec: string; width: number; height: number; durationMs: number } | null> {
    const r = await this.ffprobe.firstVideo([file], { timeoutMs: RUN_TIMEOUT_MS });
    const v = r.ok ? r.video : null;
    if (!v?.codec || v.durationMs === null) return null;
    return { codec: v.codec, width: v.width ?? 0, height: v.height ?? 0, durationMs: v.durationMs };
  }

  /** True when every frame decodes without a complaint. */
  async decodesCleanly(file: string): Promise<boolean> {
    const r = await this.run(verifyDecodeArgs(file));
    return r.code === 0 && r.stderr.trim() === '';
  }

  /** A long-running ffmpeg whose stdout the caller streams (HLS segments, exports); stdin is open. */
  stream(name: string, args: string[]): ManagedProcess {
    return this.processes.spawn(name, this.ffmpegPath, args, { stdin: true });
  }
}

import type { PacketInfo } from './ffmpeg-output.js';

interface Sample {
  at: number;
  ptsSec: number | null;
  size: number;
}

/**
 * Frame rate and bitrate of a pulled stream over a sliding window of packets. The rate comes from
 * the time ffmpeg stamped on each packet as it read it (not the camera's timestamps, which jump
 * when another client restarts the camera's stream, nor our own line arrival, which is bursty); the
 * bitrate from the packet sizes.
 */
export class StreamStats {
  private samples: Sample[] = [];
  lastPacketAt: number | null = null;
  firstPacketAt: number | null = null;
  packets = 0;

  constructor(private readonly windowMs = 3000) {}

  reset(): void {
    this.samples = [];
    this.lastPacketAt = null;
    this.firstPacketAt = null;
  }

  add(p: PacketInfo, at: number): void {
    this.samples.push({ at, ptsSec: p.ptsSec, size: p.size });
    this.lastPacketAt = at;
    this.firstPacketAt ??= at;
    this.packets++;
    this.trim(at);
  }

  private trim(now: number): void {
    const from = now - this.windowMs;
    let i = 0;
    while (i < this.samples.length && this.samples[i]!.at < from) i++;
    if (i > 0) this.samples.splice(0, i);
  }

  /** Time frames have been arriving without a stall, ms (0 when none yet). */
  flowingFor(now: number): number {
    return this.firstPacketAt === null ? 0 : now - this.firstPacketAt;
  }

  /** fps and kbit/s over the window; null until the window holds at least a second of stream. */
  rates(now: number): { fps: number; kbps: number } | null {
    this.trim(now);
    const s = this.samples;
    if (s.length < 2) return null;
    const first = s[0]!;
    const last = s[s.length - 1]!;
    const ptsSpan = first.ptsSec !== null && last.ptsSec !== null ? last.ptsSec - first.ptsSec : 0;
    const span = ptsSpan > 0 ? ptsSpan : (last.at - first.at) / 1000;
    if (now - first.at < 1000 || span <= 0) return null;
    // n frames span n-1 frame intervals; bytes of all but the first belong to that span. Packets
    // sharing a timestamp are one frame sent in pieces (slices, parameter sets).
    let frames = 0;
    let bytes = 0;
    for (let i = 1; i < s.length; i++) {
      bytes += s[i]!.size;
      if (s[i]!.ptsSec === null || s[i]!.ptsSec !== s[i - 1]!.ptsSec) frames++;
    }
    return { fps: frames / span, kbps: (bytes * 8) / span / 1000 };
  }
}

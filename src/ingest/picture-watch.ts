import type { FaultKind } from './camera-state.js';
import { Debounce, PictureChecker, type PictureThresholds } from './picture-checks.js';
import type { GrayFrame } from './picture.js';

/** The main stream's encoder settings as the camera reports them (ONVIF GetVideoEncoderConfiguration). */
export interface EncoderSettings {
  encoding: string;
  width: number;
  height: number;
  frameRateLimit: number | null;
  /** kbit/s; the cap of a VBR stream, the rate of a CBR one. */
  bitrateLimit: number | null;
  /** CBR, VBR, ... when the device says (ONVIF Media 2 ConstantBitRate; null: not said). */
  constantBitRate: boolean | null;
}

export interface PictureFloors {
  minHeight: number;
  minFps: number;
  minKbps: number;
}

export interface FaultChange {
  kind: FaultKind;
  active: boolean;
  detail?: string;
}

/**
 * What the picture of one camera is judged by, fed with its samples and stream rates whatever their
 * source (a live pull, or a recorded clip in the picture bench): the picture checks, and the floor
 * of a clear picture (resolution, frame rate, bitrate). A low measured bitrate alone is no fault: a
 * VBR or "smart" encoder spends little on a quiet room. It counts when the camera's own encoder is
 * set below the floor, or when the picture has lost its clarity against the reference.
 */
export class PictureWatch {
  readonly checker: PictureChecker;
  private encoder: EncoderSettings | null = null;
  private sharpness: number | null = null;
  private readonly floors = {
    low_fps: new Debounce(4, 4),
    low_bitrate: new Debounce(4, 4),
    low_resolution: new Debounce(2, 2),
  };

  constructor(private readonly s: { floors: PictureFloors; picture: PictureThresholds }) {
    this.checker = new PictureChecker(s.picture);
  }

  /** The encoder settings read from the camera (null: not an ONVIF camera, or not readable). */
  setEncoder(settings: EncoderSettings | null): void {
    this.encoder = settings;
  }

  /** Judges one picture sample; `reference` is set when it has just become the reference. */
  sample(frame: GrayFrame, at: number): { changes: FaultChange[]; reference?: GrayFrame } {
    const { changed, verdict, reference } = this.checker.push(frame, at);
    this.sharpness = verdict.measures.sharpness;
    return reference ? { changes: changed, reference } : { changes: changed };
  }

  /** Judges the stream's rates and decoded size against the floor (called a few times a second). */
  checkFloors(
    rates: { fps: number; kbps: number } | null,
    size: { width: number; height: number } | null,
  ): FaultChange[] {
    const f = this.s.floors;
    const limit = this.encoder?.bitrateLimit ?? null;
    const configuredLow = limit !== null && limit < f.minKbps;
    const unclear = this.sharpness !== null && this.sharpness < this.s.picture.blurMaxRatio;
    const checks: [keyof typeof this.floors, boolean | null, () => string][] = [
      [
        'low_fps',
        rates ? rates.fps < f.minFps * 0.9 : null,
        () => `${rates?.fps.toFixed(1)} fps < ${f.minFps}`,
      ],
      [
        'low_bitrate',
        configuredLow || (rates ? rates.kbps < f.minKbps && unclear : null),
        () =>
          configuredLow
            ? `encoder set to ${limit} kbit/s < ${f.minKbps}`
            : `${Math.round(rates?.kbps ?? 0)} kbit/s < ${f.minKbps} and the picture unclear`,
      ],
      [
        'low_resolution',
        size ? size.height < f.minHeight : null,
        () => `${size?.width}x${size?.height} < ${f.minHeight}p`,
      ],
    ];
    const changes: FaultChange[] = [];
    for (const [kind, bad, detail] of checks) {
      if (bad === null || !this.floors[kind].update(bad)) continue;
      const active = this.floors[kind].active;
      changes.push(active ? { kind, active, detail: detail() } : { kind, active });
    }
    return changes;
  }
}

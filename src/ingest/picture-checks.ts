import { lumaStats, sharpnessRatio, viewCorrelation, type GrayFrame } from './picture.js';

export const PICTURE_FAULTS = ['black', 'covered', 'frozen', 'moved', 'blurred'] as const;
export type PictureFault = (typeof PICTURE_FAULTS)[number];
export type PictureState = 'ok' | PictureFault;

export interface PictureThresholds {
  /** Black: the 80th percentile of luminance at or below this (0..255). */
  blackMaxLuma: number;
  /** Covered: dark (80th percentile at or below this) and flat (below). */
  coveredMaxLuma: number;
  coveredMinFlatShare: number;
  /** Frozen: no tile of the picture changes by more than this mean difference (0..255). */
  frozenTileDiff: number;
  /** Blurred: the median tile sharpness falls below this share of the reference's. */
  blurMaxRatio: number;
  /** Moved: the view's correlation with the reference falls below this. */
  movedMinCorrelation: number;
  /** Hysteresis: consecutive samples to raise a fault, and to clear it. */
  raiseAfter: number;
  clearAfter: number;
}

export const DEFAULT_PICTURE_THRESHOLDS: PictureThresholds = {
  blackMaxLuma: 24,
  coveredMaxLuma: 100,
  coveredMinFlatShare: 0.75,
  frozenTileDiff: 1.5,
  blurMaxRatio: 0.35,
  movedMinCorrelation: 0.6,
  raiseAfter: 4,
  clearAfter: 4,
};

/** A condition that must hold `raiseAfter` times in a row to raise and fail `clearAfter` times to clear. */
export class Debounce {
  active = false;
  private streak = 0;
  constructor(
    private readonly raiseAfter: number,
    private readonly clearAfter: number,
  ) {}

  /** Feeds one observation; returns true when `active` changed. */
  update(condition: boolean): boolean {
    if (condition === this.active) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak < (this.active ? this.clearAfter : this.raiseAfter)) return false;
    this.active = condition;
    this.streak = 0;
    return true;
  }

  reset(): void {
    this.active = false;
    this.streak = 0;
  }
}

const TILE_COLS = 8;
const TILE_ROWS = 6;
/** Samples of change history per tile, to tell a flickering or noisy region from a live scene. */
const HISTORY = 20;

export interface FrameVerdict {
  /** What this one frame looks like, before hysteresis. */
  raw: Record<PictureFault, boolean>;
  measures: {
    p80: number;
    flatShare: number;
    changedTiles: number;
    sharpness: number | null;
    correlation: number | null;
  };
}

/** Per-tile mean absolute differences between two frames of the same size. */
export function tileDiffs(a: GrayFrame, b: GrayFrame, cols = TILE_COLS, rows = TILE_ROWS): number[] {
  const sums = new Float64Array(cols * rows);
  const counts = new Uint32Array(cols * rows);
  for (let y = 0; y < a.height; y++) {
    const ty = Math.min(rows - 1, Math.floor((y * rows) / a.height));
    for (let x = 0; x < a.width; x++) {
      const t = ty * cols + Math.min(cols - 1, Math.floor((x * cols) / a.width));
      const i = y * a.width + x;
      sums[t]! += Math.abs(a.data[i]! - b.data[i]!);
      counts[t]!++;
    }
  }
  return [...sums].map((s, t) => s / Math.max(1, counts[t]!));
}

/**
 * The picture checks of one camera: each sampled frame is judged (black, covered, frozen, moved,
 * blurred) and each judgement passes through hysteresis, so a single odd frame raises nothing.
 * Blurred and moved need a reference picture; without one they are not checked.
 */
export class PictureChecker {
  private readonly debounce: Record<PictureFault, Debounce>;
  private previous: GrayFrame | null = null;
  /** Per tile: recent change flags, oldest first. */
  private readonly history: boolean[][] = Array.from({ length: TILE_COLS * TILE_ROWS }, () => []);
  private reference: GrayFrame | null = null;

  constructor(private readonly t: PictureThresholds = DEFAULT_PICTURE_THRESHOLDS) {
    this.debounce = Object.fromEntries(
      PICTURE_FAULTS.map((k) => [k, new Debounce(t.raiseAfter, t.clearAfter)]),
    ) as Record<PictureFault, Debounce>;
  }

  setReference(ref: GrayFrame | null): void {
    this.reference = ref;
    if (!ref) {
      for (const k of ['moved', 'blurred'] as const) this.debounce[k].reset();
    }
  }

  get hasReference(): boolean {
    return this.reference !== null;
  }

  /** The stream restarted: consecutive-frame comparisons start over; raised faults stay until cleared. */
  restart(): void {
    this.previous = null;
  }

  active(): PictureFault[] {
    return PICTURE_FAULTS.filter((k) => this.debounce[k].active);
  }

  /** The most serious active fault, or ok. */
  state(): PictureState {
    return this.active()[0] ?? 'ok';
  }

  /** Judges one frame; returns the faults whose state changed. */
  push(frame: GrayFrame): { changed: { kind: PictureFault; active: boolean }[]; verdict: FrameVerdict } {
    const verdict = this.judge(frame);
    const changed: { kind: PictureFault; active: boolean }[] = [];
    for (const kind of PICTURE_FAULTS) {
      // Frozen needs a previous frame; without one, say nothing either way.
      if (kind === 'frozen' && verdict.measures.changedTiles < 0) continue;
      if (this.debounce[kind].update(verdict.raw[kind]))
        changed.push({ kind, active: this.debounce[kind].active });
    }
    return { changed, verdict };
  }

  private judge(frame: GrayFrame): FrameVerdict {
    const t = this.t;
    const s = lumaStats(frame);
    const black = s.p80 <= t.blackMaxLuma;
    const covered = !black && s.p80 <= t.coveredMaxLuma && s.flatShare >= t.coveredMinFlatShare;
    const changedTiles = this.trackChanges(frame);
    const frozen = !black && !covered && changedTiles === 0;
    const ref = this.reference;
    const usable = ref && !black && !covered && ref.width === frame.width && ref.height === frame.height;
    const correlation = usable ? viewCorrelation(frame, ref) : null;
    const moved = correlation !== null && correlation < t.movedMinCorrelation;
    const sharpness = usable && !moved ? sharpnessRatio(frame, ref) : null;
    const blurred = sharpness !== null && sharpness < t.blurMaxRatio;
    return {
      raw: { black, covered, frozen, moved, blurred },
      measures: { p80: s.p80, flatShare: s.flatShare, changedTiles, sharpness, correlation },
    };
  }

  /**
   * Tiles that changed since the previous frame, not counting tiles that change in nearly every
   * frame (sensor noise, a flickering light, a test pattern's noise field): those prove nothing
   * about a live picture. When most of the picture is such noise, any change counts. -1 when there
   * is no previous frame to compare with.
   */
  private trackChanges(frame: GrayFrame): number {
    const prev = this.previous;
    this.previous = frame;
    if (!prev || prev.width !== frame.width || prev.height !== frame.height) return -1;
    const diffs = tileDiffs(prev, frame);
    const changed = diffs.map((d) => d > this.t.frozenTileDiff);
    const noisy = this.history.map((h) => h.length >= 6 && h.filter(Boolean).length >= 0.9 * h.length);
    const mostlyNoise = noisy.filter(Boolean).length > noisy.length / 2;
    changed.forEach((c, i) => {
      const h = this.history[i]!;
      h.push(c);
      if (h.length > HISTORY) h.shift();
    });
    return changed.filter((c, i) => c && (mostlyNoise || !noisy[i])).length;
  }
}

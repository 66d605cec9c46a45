import {
  lumaStats,
  median,
  tileCorrelations,
  tileDifferences,
  tileStats,
  TILES,
  type GrayFrame,
  type TileStats,
} from './picture.js';

export const PICTURE_FAULTS = ['black', 'covered', 'frozen', 'moved', 'blurred'] as const;
export type PictureFault = (typeof PICTURE_FAULTS)[number];
export type PictureState = 'ok' | PictureFault;

export interface PictureThresholds {
  /** Black: the 80th percentile of luminance at or below this (0..255). */
  blackMaxLuma: number;
  /** Covered: at least this share of the picture flat (dark or bright alike) and next to no edges. */
  coveredMinFlatShare: number;
  /** Frozen: nothing moves and the frame-to-frame difference falls below this share of the live one. */
  frozenNoiseRatio: number;
  /** Blurred: the edges' steepness falls below this share of the reference's (median of the tiles). */
  blurMaxRatio: number;
  /** Moved: fewer than this share of the reference's tiles with something in them still match it. */
  movedMinMatch: number;
  /** Hysteresis: consecutive samples to raise a fault, and to clear it. */
  raiseAfter: number;
  clearAfter: number;
  /** A picture that has stayed healthy and still this long (ms) becomes the reference, if there is none. */
  referenceAfterMs: number;
}

/** The middle of what works on the lab's room scenes (`npm run bench -- pictures --tune`, `tune` part). */
export const DEFAULT_PICTURE_THRESHOLDS: PictureThresholds = {
  blackMaxLuma: 24,
  coveredMinFlatShare: 0.7,
  frozenNoiseRatio: 0.6,
  blurMaxRatio: 0.7,
  movedMinMatch: 0.3,
  raiseAfter: 2,
  clearAfter: 2,
  referenceAfterMs: 30_000,
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

/** A tile whose luma variance reaches this has something in it to compare (an edge, texture). */
const STRUCTURED_VARIANCE = 30;
/** A tile of the reference still seen in place: its correlation with the reference reaches this. */
const TILE_MATCH = 0.5;
/** Fewer structured reference tiles than this: the reference says too little to judge view or focus. */
const MIN_REFERENCE_TILES = 8;
/** A pixel changing by more than this between samples is motion, not noise or re-encoding. */
const MOTION_DIFF = 10;
/** Tiles allowed to show motion in a frozen picture: the burnt-in clock's seconds. */
const CLOCK_TILES = 2;
/**
 * Tiles a covered lens may still show structure in: the OSD a camera burns in along one edge (its
 * name and clock), up to a full row of the grid. A cover of 40 % leaves far more than this.
 */
const OSD_TILES = 8;
/** Below this mean difference (0..255) two decoded samples are the same picture, whatever was learnt. */
const SAME_PICTURE_DIFF = 0.15;
/** Samples of live difference kept to learn the camera's noise level (its low end is the level). */
const LIVE_HISTORY = 10;
/** A change of the mean luma by more than this share is new lighting (lamps, IR): noise is learnt anew. */
const LIGHTING_CHANGE = 0.2;

export interface FrameVerdict {
  /** What this one frame looks like, before hysteresis. */
  raw: Record<PictureFault, boolean>;
  measures: {
    p80: number;
    flatShare: number;
    structuredTiles: number;
    /** Tiles with motion since the previous sample (-1: no previous sample). */
    motionTiles: number;
    /** Mean difference from the previous sample over the learnt live one (null: not yet known). */
    noiseRatio: number | null;
    /** Share of the reference's structured tiles still in place (null: no usable reference). */
    match: number | null;
    /** Edge steepness against the reference (null: no usable reference, or moved). */
    sharpness: number | null;
  };
}

interface Reference {
  frame: GrayFrame;
  stats: TileStats;
  /** The tiles worth comparing. */
  tiles: number[];
}

/**
 * The picture checks of one camera: each sampled frame is judged (black, covered, frozen, moved,
 * blurred) and each judgement passes through hysteresis, so a single odd frame raises nothing.
 * Blurred and moved compare with the reference picture; when there is none, the first picture that
 * stays healthy and still for `referenceAfterMs` becomes it (`push` then returns it to be kept).
 */
export class PictureChecker {
  private readonly debounce: Record<PictureFault, Debounce>;
  private previous: GrayFrame | null = null;
  private reference: Reference | null = null;
  /** Mean differences of recent live samples: this camera's noise and motion when it is alive. */
  private liveDiffs: number[] = [];
  /** Mean luma of the samples the live differences were learnt from. */
  private liveLuma = 0;
  /** The still, healthy stretch that may become the reference: its first frame and start time. */
  private candidate: { frame: GrayFrame; stats: TileStats; since: number } | null = null;

  constructor(private readonly t: PictureThresholds = DEFAULT_PICTURE_THRESHOLDS) {
    this.debounce = Object.fromEntries(
      PICTURE_FAULTS.map((k) => [k, new Debounce(t.raiseAfter, t.clearAfter)]),
    ) as Record<PictureFault, Debounce>;
  }

  setReference(ref: GrayFrame | null): void {
    this.reference = ref ? toReference(ref) : null;
    this.candidate = null;
    if (!this.reference) for (const k of ['moved', 'blurred'] as const) this.debounce[k].reset();
  }

  get hasReference(): boolean {
    return this.reference !== null;
  }

  /** The stream restarted: consecutive-frame comparisons start over; raised faults stay until cleared. */
  restart(): void {
    this.previous = null;
    this.candidate = null;
  }

  active(): PictureFault[] {
    return PICTURE_FAULTS.filter((k) => this.debounce[k].active);
  }

  /** The most serious active fault, or ok. */
  state(): PictureState {
    return this.active()[0] ?? 'ok';
  }

  /**
   * Judges one frame sampled at `at` (ms); returns the faults whose state changed, and the frame
   * when it has just become the reference.
   */
  push(
    frame: GrayFrame,
    at: number,
  ): { changed: { kind: PictureFault; active: boolean }[]; verdict: FrameVerdict; reference?: GrayFrame } {
    const stats = tileStats(frame);
    const verdict = this.judge(frame, stats);
    const changed: { kind: PictureFault; active: boolean }[] = [];
    for (const kind of PICTURE_FAULTS) {
      // Frozen needs a previous frame; without one, say nothing either way.
      if (kind === 'frozen' && verdict.measures.motionTiles < 0) continue;
      if (this.debounce[kind].update(verdict.raw[kind]))
        changed.push({ kind, active: this.debounce[kind].active });
    }
    const reference = this.considerReference(frame, stats, verdict, at);
    return reference ? { changed, verdict, reference } : { changed, verdict };
  }

  private judge(frame: GrayFrame, stats: TileStats): FrameVerdict {
    const t = this.t;
    const s = lumaStats(frame);
    const structuredTiles = stats.variance.filter((v) => v >= STRUCTURED_VARIANCE).length;
    const black = s.p80 <= t.blackMaxLuma;
    // Anything over the lens is out of focus and evenly lit: flat, with at most the OSD's tiles left.
    const covered = !black && s.flatShare >= t.coveredMinFlatShare && structuredTiles <= OSD_TILES;
    const { motionTiles, noiseRatio } = this.trackChanges(frame, s.mean);
    const frozen =
      !black &&
      !covered &&
      motionTiles >= 0 &&
      motionTiles <= CLOCK_TILES &&
      noiseRatio !== null &&
      noiseRatio < t.frozenNoiseRatio;
    const ref = this.reference;
    const usable = ref && ref.tiles.length > 0 && !black && !covered && sameSize(ref.frame, frame);
    let match: number | null = null;
    let sharpness: number | null = null;
    if (usable) {
      const cor = tileCorrelations(frame, ref.frame);
      const inPlace = ref.tiles.filter((i) => cor[i]! >= TILE_MATCH);
      match = inPlace.length / ref.tiles.length;
      // Focus on the tiles still in place (a person in front of one says nothing about the lens).
      const ratios = inPlace
        .filter((i) => stats.variance[i]! >= 4)
        .map((i) => stats.steepness[i]! / ref.stats.steepness[i]!);
      sharpness = match >= t.movedMinMatch && ratios.length >= 4 ? median(ratios) : null;
    }
    const moved = match !== null && match < t.movedMinMatch;
    const blurred = sharpness !== null && sharpness < t.blurMaxRatio;
    return {
      raw: { black, covered, frozen, moved, blurred },
      measures: {
        p80: s.p80,
        flatShare: s.flatShare,
        structuredTiles,
        motionTiles,
        noiseRatio,
        match,
        sharpness,
      },
    };
  }

  /**
   * Motion since the previous sample (tiles where pixels changed by more than noise or re-encoding
   * can, beyond the clock's), and the mean difference against what this camera shows when it is
   * alive: a frozen sensor behind a live OSD keeps the clock ticking but loses its noise.
   */
  private trackChanges(frame: GrayFrame, luma: number): { motionTiles: number; noiseRatio: number | null } {
    const prev = this.previous;
    this.previous = frame;
    // More or less light means more or less sensor gain, so another noise level.
    if (Math.abs(luma - this.liveLuma) > LIGHTING_CHANGE * Math.max(this.liveLuma, 16)) {
      this.liveDiffs = [];
      this.liveLuma = luma;
    }
    if (!prev || !sameSize(prev, frame)) return { motionTiles: -1, noiseRatio: null };
    const differences = tileDifferences(prev, frame, MOTION_DIFF);
    const motionTiles = differences.changed.filter((share) => share > 0.01).length;
    // The whole picture changed at once (IR switched, lamps, the encoder's settings): learn anew.
    if (motionTiles > TILES / 2) {
      this.liveDiffs = [];
      return { motionTiles, noiseRatio: null };
    }
    // The mean difference without the tiles that changed most (the clock, a moving person).
    const quiet = [...differences.mean].sort((a, b) => a - b).slice(0, TILES - 2 * CLOCK_TILES);
    const diff = quiet.reduce((a, b) => a + b, 0) / quiet.length;
    if (diff < SAME_PICTURE_DIFF) return { motionTiles, noiseRatio: 0 };
    const live = this.liveDiffs.length >= 5 ? [...this.liveDiffs].sort((a, b) => a - b)[1]! : null;
    const noiseRatio = live ? diff / live : null;
    if (noiseRatio === null || noiseRatio >= this.t.frozenNoiseRatio || motionTiles > CLOCK_TILES) {
      this.liveDiffs.push(diff);
      if (this.liveDiffs.length > LIVE_HISTORY) this.liveDiffs.shift();
    }
    return { motionTiles, noiseRatio };
  }

  /** A reference is taken once the picture has stayed healthy and in view for `referenceAfterMs`. */
  private considerReference(
    frame: GrayFrame,
    stats: TileStats,
    verdict: FrameVerdict,
    at: number,
  ): GrayFrame | undefined {
    if (this.reference && sameSize(this.reference.frame, frame)) return undefined;
    const healthy = !Object.values(verdict.raw).some(Boolean) && this.active().length === 0;
    const enough = stats.variance.filter((v) => v >= STRUCTURED_VARIANCE).length >= MIN_REFERENCE_TILES;
    const c = this.candidate;
    if (!healthy || !enough) {
      this.candidate = null;
      return undefined;
    }
    if (!c) {
      this.candidate = { frame, stats, since: at };
      return undefined;
    }
    const start = toReference(c.frame, c.stats);
    const cor = tileCorrelations(frame, c.frame);
    // Someone carrying the camera, or a picture still settling: start the wait again from here.
    if (start.tiles.filter((i) => cor[i]! >= TILE_MATCH).length < 0.7 * start.tiles.length) {
      this.candidate = { frame, stats, since: at };
      return undefined;
    }
    if (at - c.since < this.t.referenceAfterMs) return undefined;
    this.setReference(frame);
    return frame;
  }
}

function sameSize(a: GrayFrame, b: GrayFrame): boolean {
  return a.width === b.width && a.height === b.height;
}

function toReference(frame: GrayFrame, stats = tileStats(frame)): Reference {
  const tiles = [...stats.variance.keys()].filter((i) => stats.variance[i]! >= STRUCTURED_VARIANCE);
  return { frame, stats, tiles: tiles.length >= MIN_REFERENCE_TILES ? tiles : [] };
}

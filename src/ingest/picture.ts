/** Measures on small grey frames (one byte per pixel), the raw material of the picture checks. */
export interface GrayFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface LumaStats {
  mean: number;
  median: number;
  /** 80th percentile: a dark picture with a bright on-screen clock still counts as dark. */
  p80: number;
  /** Share of pixels within ±12 of the median: how textureless the picture is. */
  flatShare: number;
}

export function lumaStats(f: GrayFrame): LumaStats {
  const hist = new Uint32Array(256);
  let sum = 0;
  const d = f.data;
  for (let i = 0; i < d.length; i++) {
    hist[d[i]!]!++;
    sum += d[i]!;
  }
  const n = f.data.length;
  const percentile = (p: number) => {
    let acc = 0;
    for (let v = 0; v < 256; v++) {
      acc += hist[v]!;
      if (acc >= p * n) return v;
    }
    return 255;
  };
  const median = percentile(0.5);
  let near = 0;
  for (let v = Math.max(0, median - 12); v <= Math.min(255, median + 12); v++) near += hist[v]!;
  return { mean: sum / n, median, p80: percentile(0.8), flatShare: near / n };
}

/** The grid every tile measure uses: 8×6 tiles (40×30 pixels on a 320×180 sample). */
export const GRID = { cols: 8, rows: 6 } as const;
export const TILES = GRID.cols * GRID.rows;

/** Where each tile column starts, and ends (the last entry is the width). */
function columnBounds(width: number): number[] {
  return Array.from({ length: GRID.cols + 1 }, (_, c) => Math.ceil((c * width) / GRID.cols));
}

/**
 * Calls `span(tile, from, to)` for each row's run of pixels inside one tile, so the measures sum
 * in local variables and touch the per-tile totals once per run (they run on every sample).
 */
function forEachSpan(
  f: GrayFrame,
  span: (tile: number, from: number, to: number) => void,
  rows = f.height,
): void {
  const bounds = columnBounds(f.width);
  for (let y = 0; y < rows; y++) {
    const ty = Math.min(GRID.rows - 1, Math.floor((y * GRID.rows) / f.height));
    for (let c = 0; c < GRID.cols; c++)
      span(ty * GRID.cols + c, y * f.width + bounds[c]!, y * f.width + bounds[c + 1]!);
  }
}

export interface TileStats {
  /** Variance of the luma in each tile: how much there is to see. */
  variance: Float64Array;
  /**
   * Mean squared gradient (forward differences) over the variance, per tile: how steep the tile's
   * edges are for its contrast. Dimming the light scales both alike; a defocus flattens the edges.
   */
  steepness: Float64Array;
}

export function tileStats(f: GrayFrame): TileStats {
  const { width: w, data: d } = f;
  const n = new Float64Array(TILES);
  const sum = new Float64Array(TILES);
  const sq = new Float64Array(TILES);
  const grad = new Float64Array(TILES);
  // Forward differences need the next row: the last row is left out.
  forEachSpan(
    f,
    (t, from, to) => {
      let s1 = 0;
      let s2 = 0;
      let g = 0;
      const end = Math.min(to, (Math.floor(from / w) + 1) * w - 1);
      for (let i = from; i < end; i++) {
        const v = d[i]!;
        const dx = d[i + 1]! - v;
        const dy = d[i + w]! - v;
        s1 += v;
        s2 += v * v;
        g += dx * dx + dy * dy;
      }
      n[t]! += end - from;
      sum[t]! += s1;
      sq[t]! += s2;
      grad[t]! += g;
    },
    f.height - 1,
  );
  const variance = new Float64Array(TILES);
  const steepness = new Float64Array(TILES);
  for (let t = 0; t < TILES; t++) {
    const c = Math.max(1, n[t]!);
    variance[t] = sq[t]! / c - (sum[t]! / c) ** 2;
    // +4: sensor noise alone (variance of a few levels) must not look like a steep edge.
    steepness[t] = grad[t]! / c / (variance[t]! + 4);
  }
  return { variance, steepness };
}

/** Normalised cross-correlation (-1..1) of each tile of two frames of the same size. */
export function tileCorrelations(a: GrayFrame, b: GrayFrame): Float64Array {
  const n = new Float64Array(TILES);
  const sa = new Float64Array(TILES);
  const sb = new Float64Array(TILES);
  const saa = new Float64Array(TILES);
  const sbb = new Float64Array(TILES);
  const sab = new Float64Array(TILES);
  forEachSpan(a, (t, from, to) => {
    let x = 0;
    let y = 0;
    let xx = 0;
    let yy = 0;
    let xy = 0;
    for (let i = from; i < to; i++) {
      const u = a.data[i]!;
      const v = b.data[i]!;
      x += u;
      y += v;
      xx += u * u;
      yy += v * v;
      xy += u * v;
    }
    n[t]! += to - from;
    sa[t]! += x;
    sb[t]! += y;
    saa[t]! += xx;
    sbb[t]! += yy;
    sab[t]! += xy;
  });
  const out = new Float64Array(TILES);
  for (let t = 0; t < TILES; t++) {
    const c = Math.max(1, n[t]!);
    const cov = sab[t]! / c - (sa[t]! / c) * (sb[t]! / c);
    const va = saa[t]! / c - (sa[t]! / c) ** 2;
    const vb = sbb[t]! / c - (sb[t]! / c) ** 2;
    out[t] = va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
  }
  return out;
}

/**
 * Per tile, between two frames of the same size: the mean absolute difference (0..255), and the
 * share of pixels differing by more than `minDiff`.
 */
export function tileDifferences(
  a: GrayFrame,
  b: GrayFrame,
  minDiff: number,
): { mean: Float64Array; changed: Float64Array } {
  const n = new Float64Array(TILES);
  const sum = new Float64Array(TILES);
  const over = new Float64Array(TILES);
  forEachSpan(a, (t, from, to) => {
    let s = 0;
    let k = 0;
    for (let i = from; i < to; i++) {
      const d = a.data[i]! - b.data[i]!;
      const abs = d < 0 ? -d : d;
      s += abs;
      if (abs > minDiff) k++;
    }
    n[t]! += to - from;
    sum[t]! += s;
    over[t]! += k;
  });
  const per = (v: Float64Array) => v.map((x, t) => x / Math.max(1, n[t]!));
  return { mean: per(sum), changed: per(over) };
}

/** Median of the values (NaN when there are none). */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

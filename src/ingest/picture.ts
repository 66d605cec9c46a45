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
  for (const v of f.data) {
    hist[v]!++;
    sum += v;
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

/** Mean absolute difference of two frames of the same size (0..255). */
export function meanAbsDiff(a: GrayFrame, b: GrayFrame): number {
  if (a.data.length !== b.data.length) return 255;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

/** Variance of the 4-neighbour Laplacian in each tile of a cols×rows grid: sharpness by region. */
export function sharpnessTiles(f: GrayFrame, cols = 4, rows = 4): number[] {
  const { width: w, height: h, data: d } = f;
  const sums = new Float64Array(cols * rows);
  const sq = new Float64Array(cols * rows);
  const counts = new Uint32Array(cols * rows);
  for (let y = 1; y < h - 1; y++) {
    const ty = Math.min(rows - 1, Math.floor((y * rows) / h));
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const lap = d[i - 1]! + d[i + 1]! + d[i - w]! + d[i + w]! - 4 * d[i]!;
      const t = ty * cols + Math.min(cols - 1, Math.floor((x * cols) / w));
      sums[t]! += lap;
      sq[t]! += lap * lap;
      counts[t]!++;
    }
  }
  return [...counts].map((c, t) => (c ? sq[t]! / c - (sums[t]! / c) ** 2 : 0));
}

/** Gradient magnitude (|dx| + |dy|, central differences) of each inner pixel; 0 on the border. */
export function gradients(f: GrayFrame): Float32Array {
  const { width: w, height: h, data: d } = f;
  const g = new Float32Array(w * h);
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      g[i] = Math.abs(d[i + 1]! - d[i - 1]!) + Math.abs(d[i + w]! - d[i - w]!);
    }
  return g;
}

/**
 * How sharp the frame is against the reference (1 = as sharp): the gradient strength of the frame
 * on the reference's strongest edges (its top 10 %) over the reference's own. The scene's fixed
 * edges (walls, desks, bars) dominate that set, so a moving person or an on-screen clock barely
 * moves it, while a blurred or fogged lens lowers it everywhere. Null when the reference is flat.
 */
export function sharpnessRatio(f: GrayFrame, ref: GrayFrame, minEdge = 12): number | null {
  if (f.width !== ref.width || f.height !== ref.height) return null;
  const gr = gradients(ref);
  const gf = gradients(f);
  const sorted = Float32Array.from(gr).sort();
  const cut = Math.max(minEdge, sorted[Math.floor(sorted.length * 0.9)]!);
  let sumRef = 0;
  let sumCur = 0;
  for (let i = 0; i < gr.length; i++)
    if (gr[i]! >= cut) {
      sumRef += gr[i]!;
      sumCur += gf[i]!;
    }
  return sumRef > 0 ? sumCur / sumRef : null;
}

/** Halves a frame with a 2×2 box: less noise and less weight on fine detail for the view match. */
export function downsample(f: GrayFrame): GrayFrame {
  const w = Math.floor(f.width / 2);
  const h = Math.floor(f.height / 2);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = 2 * y * f.width + 2 * x;
      out[y * w + x] =
        (f.data[i]! + f.data[i + 1]! + f.data[i + f.width]! + f.data[i + f.width + 1]! + 2) >> 2;
    }
  return { width: w, height: h, data: out };
}

/**
 * Normalised cross-correlation (-1..1) of two frames after downsampling: how well the view matches
 * the reference, insensitive to overall brightness and contrast changes and to mild blur.
 */
export function viewCorrelation(a: GrayFrame, b: GrayFrame): number {
  if (a.width !== b.width || a.height !== b.height) return 0;
  const x = downsample(a).data;
  const y = downsample(b).data;
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return sxx === syy ? 1 : 0;
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * The drawing of the room scenes (lab/scenes.ts): YUV 4:2:0 pictures, a classroom drawn from a seed,
 * and its people.
 */

/** mulberry32: a small seeded generator, so a seed always draws the same scene. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A YUV 4:2:0 picture. */
export interface Planes {
  w: number;
  h: number;
  y: Uint8ClampedArray;
  u: Uint8ClampedArray;
  v: Uint8ClampedArray;
}

/** Three planes over one buffer, so a picture is written out as it is. */
export function planes(w: number, h: number): Planes & { bytes: Uint8Array } {
  const bytes = new Uint8Array((w * h * 3) / 2);
  const q = (w / 2) * (h / 2);
  const at = (offset: number, length: number) => new Uint8ClampedArray(bytes.buffer, offset, length);
  const p = { w, h, bytes, y: at(0, w * h), u: at(w * h, q), v: at(w * h + q, q) };
  p.u.fill(128);
  p.v.fill(128);
  return p;
}

export function fillRect(
  p: Planes,
  x0: number,
  y0: number,
  w: number,
  h: number,
  c: [number, number, number],
) {
  const x1 = Math.min(p.w, Math.round(x0 + w));
  const y1 = Math.min(p.h, Math.round(y0 + h));
  const xs = Math.max(0, Math.round(x0));
  const ys = Math.max(0, Math.round(y0));
  for (let y = ys; y < y1; y++) p.y.fill(c[0], y * p.w + xs, y * p.w + Math.max(xs, x1));
  for (let y = ys >> 1; y < y1 >> 1; y++) {
    p.u.fill(c[1], y * (p.w / 2) + (xs >> 1), y * (p.w / 2) + Math.max(xs >> 1, x1 >> 1));
    p.v.fill(c[2], y * (p.w / 2) + (xs >> 1), y * (p.w / 2) + Math.max(xs >> 1, x1 >> 1));
  }
}

export function fillEllipse(
  p: Planes,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  c: [number, number, number],
) {
  const ys = Math.max(0, Math.floor(cy - ry));
  const ye = Math.min(p.h - 1, Math.ceil(cy + ry));
  for (let y = ys; y <= ye; y++) {
    const dy = (y - cy) / ry;
    const half = rx * Math.sqrt(Math.max(0, 1 - dy * dy));
    const xs = Math.max(0, Math.round(cx - half));
    const xe = Math.min(p.w, Math.round(cx + half));
    if (xe <= xs) continue;
    p.y.fill(c[0], y * p.w + xs, y * p.w + xe);
    if ((y & 1) === 0) {
      const row = (y >> 1) * (p.w / 2);
      p.u.fill(c[1], row + (xs >> 1), row + (xe >> 1));
      p.v.fill(c[2], row + (xs >> 1), row + (xe >> 1));
    }
  }
}

/** Box blur of one plane along rows and columns (three passes approximate a Gaussian). */
function boxBlur(data: Uint8ClampedArray, w: number, h: number, radius: number): void {
  const tmp = new Float32Array(data.length);
  const n = 2 * radius + 1;
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let s = data[o]! * (radius + 1);
    for (let x = 1; x <= radius; x++) s += data[o + Math.min(w - 1, x)]!;
    for (let x = 0; x < w; x++) {
      tmp[o + x] = s / n;
      s += data[o + Math.min(w - 1, x + radius + 1)]! - data[o + Math.max(0, x - radius)]!;
    }
  }
  for (let x = 0; x < w; x++) {
    let s = tmp[x]! * (radius + 1);
    for (let y = 1; y <= radius; y++) s += tmp[Math.min(h - 1, y) * w + x]!;
    for (let y = 0; y < h; y++) {
      data[y * w + x] = s / n;
      s += tmp[Math.min(h - 1, y + radius + 1) * w + x]! - tmp[Math.max(0, y - radius) * w + x]!;
    }
  }
}

/**
 * Gaussian blur of sigma `sigma` px: three box passes of two neighbouring odd widths, as many of each
 * as make their variances ((width² - 1) / 12 each) add up closest to sigma² (W. Wells, 1986).
 */
export function gaussian(p: Planes, sigma: number): void {
  const radii = (s: number) => {
    let lower = Math.floor(Math.sqrt(4 * s * s + 1));
    if (lower % 2 === 0) lower--;
    const narrow = Math.round((12 * s * s - 3 * lower * lower - 12 * lower - 9) / (-4 * lower - 4));
    return [0, 1, 2].map((i) => Math.max(1, (i < narrow ? lower - 1 : lower + 1) / 2));
  };
  for (const r of radii(sigma)) boxBlur(p.y, p.w, p.h, r);
  for (const r of radii(sigma / 2)) {
    boxBlur(p.u, p.w / 2, p.h / 2, r);
    boxBlur(p.v, p.w / 2, p.h / 2, r);
  }
}

/** A room drawn once: its picture and which pixels are window (lit by daylight, not by the lamps). */
export interface Room {
  pic: Planes;
  window: Uint8Array;
}

export function drawRoom(w: number, h: number, seed: number): Room {
  const r = rng(seed);
  const between = (a: number, b: number) => a + r() * (b - a);
  const pic = planes(w, h);
  const wall = between(150, 190);
  const tint: [number, number] = [between(118, 134), between(122, 140)];
  // Walls: light falling off across the room, and plaster texture.
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) pic.y[y * w + x] = wall - 25 * (x / w) + (r() - 0.5) * 6;
  pic.u.fill(tint[0]);
  pic.v.fill(tint[1]);
  fillRect(pic, 0, 0, w, h * 0.07, [215, 128, 128]);
  for (let i = 0; i < 4; i++)
    fillRect(pic, w * (0.1 + i * 0.22), h * 0.015, w * 0.12, h * 0.03, [250, 128, 128]);
  // Floor with tiles getting closer together towards the back.
  const floorY = h * between(0.55, 0.65);
  fillRect(pic, 0, floorY, w, h - floorY, [between(85, 120), 120, 135]);
  for (let k = 1; k < 12; k++)
    fillRect(pic, 0, floorY + (h - floorY) * (k / 12) ** 1.6, w, 2, [70, 120, 135]);
  // Window with a view of trees and sky, in panes.
  const win = new Uint8Array(w * h);
  const wx = r() < 0.5 ? w * between(0.02, 0.12) : w * between(0.7, 0.8);
  const wy = h * 0.14;
  const ww = w * 0.2;
  const wh = h * 0.34;
  fillRect(pic, wx, wy, ww, wh, [238, 140, 118]);
  for (let i = 0; i < 40; i++)
    fillEllipse(pic, wx + r() * ww, wy + wh * (0.55 + r() * 0.5), between(10, 40), between(10, 35), [
      between(90, 140),
      110,
      115,
    ]);
  for (const f of [0, 0.5, 1]) {
    fillRect(pic, wx + ww * f - 6, wy, 12, wh, [70, 128, 128]);
    fillRect(pic, wx, wy + wh * f - 6, ww, 12, [70, 128, 128]);
  }
  for (let y = Math.round(wy); y < wy + wh; y++)
    win.fill(1, y * w + Math.round(wx), y * w + Math.round(wx + ww));
  // Blackboard with writing.
  const bx = w * between(0.3, 0.38);
  const by = h * 0.12;
  const bw = w * 0.34;
  const bh = h * 0.25;
  fillRect(pic, bx - 8, by - 8, bw + 16, bh + 16, [110, 120, 140]);
  fillRect(pic, bx, by, bw, bh, [55, 118, 112]);
  for (let line = 0; line < 6; line++)
    for (let x = bx + 20; x < bx + bw - 40; x += between(8, 22)) {
      const ch = [between(180, 230), 128, 128] as [number, number, number];
      if (r() < 0.5) fillRect(pic, x, by + 18 + line * (bh / 6.5), 3, between(10, 18), ch);
      else fillRect(pic, x, by + 24 + line * (bh / 6.5), between(6, 14), 3, ch);
    }
  // Posters and a door.
  for (let i = 0; i < 3; i++) {
    const px = w * between(0.05, 0.9);
    const py = h * between(0.15, 0.4);
    fillRect(pic, px, py, w * 0.05, h * 0.12, [between(60, 220), between(90, 170), between(90, 170)]);
    for (let k = 0; k < 5; k++) fillRect(pic, px + 6, py + 10 + k * 12, w * 0.05 - 12, 3, [40, 128, 128]);
  }
  fillRect(pic, w * between(0.86, 0.92), h * 0.2, w * 0.07, floorY - h * 0.2, [95, 118, 142]);
  // Desks in rows, smaller towards the back.
  const rows = 4;
  for (let row = 0; row < rows; row++) {
    const depth = 0.55 + 0.45 * (row / (rows - 1));
    const dy = floorY + (h - floorY) * (0.05 + 0.22 * row);
    const cols = 6;
    for (let c = 0; c < cols; c++) {
      const dw = w * 0.09 * depth;
      const dx = w * 0.5 + (c - (cols - 1) / 2) * w * 0.14 * depth - dw / 2;
      fillRect(pic, dx, dy, dw, h * 0.035 * depth, [between(120, 150), 108, 150]);
      fillRect(pic, dx + 4, dy + h * 0.035 * depth, 6, h * 0.06 * depth, [50, 128, 128]);
      fillRect(pic, dx + dw - 10, dy + h * 0.035 * depth, 6, h * 0.06 * depth, [50, 128, 128]);
    }
  }
  // A lens is never pixel-sharp: a slight softness, as a focused camera shows.
  for (let k = 0; k < 2; k++) boxBlur(pic.y, w, h, 1);
  return { pic, window: win };
}

export function mirror(room: Room): Room {
  const { w, h } = room.pic;
  const flip = (data: Uint8ClampedArray | Uint8Array, rw: number, rh: number) => {
    for (let y = 0; y < rh; y++) data.subarray(y * rw, (y + 1) * rw).reverse();
  };
  flip(room.pic.y, w, h);
  flip(room.pic.u, w / 2, h / 2);
  flip(room.pic.v, w / 2, h / 2);
  flip(room.window, w, h);
  return room;
}

export interface Person {
  x: number;
  y: number;
  size: number;
  shirt: [number, number, number];
  /** Walkers go between two points; the others sit and sway. */
  walk: { x0: number; x1: number; period: number } | null;
  phase: number;
}

export function people(w: number, h: number, seed: number): Person[] {
  const r = rng(seed ^ 0x5eed);
  const n = 4 + Math.floor(r() * 7);
  return Array.from({ length: n }, (_, i) => {
    const y = h * (0.62 + r() * 0.3);
    return {
      x: w * (0.15 + r() * 0.7),
      y,
      size: (y / h) * h * 0.32,
      shirt: [40 + r() * 170, 100 + r() * 56, 100 + r() * 56],
      walk: i < 2 ? { x0: w * (0.1 + r() * 0.3), x1: w * (0.6 + r() * 0.3), period: 20 + r() * 40 } : null,
      phase: r() * 100,
    };
  });
}

export function drawPerson(p: Planes, who: Person, t: number, ox: number, oy: number): void {
  const walk = who.walk;
  const x = walk
    ? walk.x0 + (walk.x1 - walk.x0) * (0.5 - 0.5 * Math.cos((2 * Math.PI * (t + who.phase)) / walk.period))
    : who.x + 6 * Math.sin((t + who.phase) / 3) + 3 * Math.sin((t + who.phase) * 1.7);
  const s = who.size;
  const cx = x - ox;
  const cy = who.y - oy;
  fillEllipse(p, cx, cy, s * 0.2, s * 0.3, who.shirt);
  fillEllipse(p, cx, cy - s * 0.42, s * 0.1, s * 0.13, [150, 112, 145]);
  fillEllipse(p, cx, cy - s * 0.5, s * 0.1, s * 0.06, [35, 128, 128]);
}

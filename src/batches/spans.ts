/** Half-open time spans [from, to) in epoch milliseconds, and the set arithmetic reports need. */
export interface Span {
  from: number;
  to: number;
}

/** Sorted, non-overlapping spans covering the same instants. */
export function union(spans: Span[]): Span[] {
  const sorted = spans.filter((s) => s.to > s.from).sort((a, b) => a.from - b.from || a.to - b.to);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else out.push({ from: s.from, to: s.to });
  }
  return out;
}

/** The parts of `within` that no span covers. */
export function subtract(within: Span, spans: Span[]): Span[] {
  const out: Span[] = [];
  let cursor = within.from;
  for (const s of union(spans)) {
    if (s.to <= cursor) continue;
    if (s.from >= within.to) break;
    if (s.from > cursor) out.push({ from: cursor, to: Math.min(s.from, within.to) });
    cursor = Math.max(cursor, s.to);
    if (cursor >= within.to) break;
  }
  if (cursor < within.to) out.push({ from: cursor, to: within.to });
  return out;
}

/** Every span cut to `window`; spans outside it disappear. */
export function clip(spans: Span[], window: Span): Span[] {
  return spans
    .map((s) => ({ from: Math.max(s.from, window.from), to: Math.min(s.to, window.to) }))
    .filter((s) => s.to > s.from);
}

/** Pairwise intersection of two span sets. */
export function intersect(a: Span[], b: Span[]): Span[] {
  const out: Span[] = [];
  for (const x of union(a)) for (const y of union(b)) out.push(...clip([x], y));
  return union(out);
}

/** Total milliseconds covered (overlaps counted once). */
export function measure(spans: Span[]): number {
  return union(spans).reduce((sum, s) => sum + (s.to - s.from), 0);
}

export const overlaps = (a: Span, b: Span): boolean => a.from < b.to && b.from < a.to;

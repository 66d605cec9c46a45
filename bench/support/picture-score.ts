/** Scoring of the picture bench (bench/pictures.ts): recall and delays per fault, false alarms per camera-hour. */
import { SCENE_CHANGES, type SceneChange, type SceneSpec } from '../../lab/scenes.js';
import type { FaultChange } from '../../src/ingest/picture-watch.js';

/** The scene changes that are faults, in the order the fault clips play them. */
export const FAULT_CHANGES = Object.entries(SCENE_CHANGES)
  .filter(([, c]) => c.fault !== null)
  .map(([k]) => k as SceneChange);

export interface Judged {
  clip: { name: string; spec: SceneSpec };
  /** Fault raises and clears on the clip's time (s). */
  changes: (FaultChange & { at: number })[];
  referenceAt: number | null;
  judgeMs: number;
  samples: number;
}

export interface Detection {
  change: SceneChange;
  detectS: number | null;
  clearS: number | null;
}

/** The fault kinds that count as catching a change (a dark cover may well read as black). */
const accepted = (change: SceneChange): string[] => {
  const f = SCENE_CHANGES[change].fault;
  return f === 'covered' ? ['covered', 'black'] : f ? [f] : [];
};

export function score(results: Judged[]): {
  detections: Detection[];
  falseAlarms: { clip: string; kind: string; at: number; during: string }[];
  cameraHours: number;
} {
  const detections: Detection[] = [];
  const falseAlarms: { clip: string; kind: string; at: number; during: string }[] = [];
  let seconds = 0;
  for (const r of results) {
    const events = r.clip.spec.events;
    const during = (at: number) =>
      events
        .filter((e) => at >= e.from && at <= e.to + 15)
        .map((e) => e.change)
        .join('+') || '-';
    if (r.clip.name.startsWith('normal')) {
      seconds += r.clip.spec.seconds;
      for (const c of r.changes)
        if (c.active) falseAlarms.push({ clip: r.clip.name, kind: c.kind, at: c.at, during: during(c.at) });
      continue;
    }
    for (const e of events) {
      const kinds = accepted(e.change);
      const raised = r.changes.find(
        (c) => c.active && kinds.includes(c.kind) && c.at >= e.from && c.at <= e.to,
      );
      const cleared = raised && r.changes.find((c) => !c.active && c.kind === raised.kind && c.at >= e.to);
      detections.push({
        change: e.change,
        detectS: raised ? raised.at - e.from : null,
        clearS: cleared ? cleared.at - e.to : null,
      });
    }
    // Outside the faults (and their clearing), a fault clip is a normal picture too.
    for (const c of r.changes)
      if (c.active && during(c.at) === '-')
        falseAlarms.push({ clip: r.clip.name, kind: c.kind, at: c.at, during: 'between faults' });
  }
  return { detections, falseAlarms, cameraHours: seconds / 3600 };
}

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
export const f1 = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1));

export function printTable(title: string, s: ReturnType<typeof score>): void {
  const rows: string[][] = [
    ['fault', 'change', 'recall', 'detect p50 s', 'detect p95 s', 'clear p50 s', 'clear p95 s'],
  ];
  const line = (fault: string, change: string, ds: Detection[]) => {
    const hit = ds.filter((d) => d.detectS !== null);
    const det = hit.map((d) => d.detectS!);
    const clr = hit.filter((d) => d.clearS !== null).map((d) => d.clearS!);
    rows.push([
      fault,
      change,
      `${((100 * hit.length) / Math.max(1, ds.length)).toFixed(0)} % (${hit.length}/${ds.length})`,
      f1(pct(det, 50)),
      f1(pct(det, 95)),
      f1(pct(clr, 50)),
      f1(pct(clr, 95)),
    ]);
  };
  for (const fault of ['black', 'covered', 'frozen', 'blurred', 'moved']) {
    const changes = FAULT_CHANGES.filter((c) => SCENE_CHANGES[c].fault === fault);
    line(
      fault,
      changes.length > 1 ? 'all' : changes[0]!,
      s.detections.filter((d) => changes.includes(d.change)),
    );
    if (changes.length > 1)
      for (const c of changes)
        line(
          '',
          c,
          s.detections.filter((d) => d.change === c),
        );
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(`\n${title}\n`);
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ') + '\n');
  const fa = s.falseAlarms;
  process.stdout.write(
    `false alarms over the normal variations: ${fa.length} in ${s.cameraHours.toFixed(2)} camera-hours ` +
      `(${(fa.length / Math.max(1e-9, s.cameraHours)).toFixed(2)} per camera-hour)\n`,
  );
  for (const a of fa.slice(0, 20))
    process.stdout.write(`  ${a.clip} ${a.kind} at ${a.at.toFixed(1)} s during ${a.during}\n`);
}

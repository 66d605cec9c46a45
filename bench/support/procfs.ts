/** Process figures from /proc for the benches: CPU ticks, PSS, and a process's descendants. */
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ

export async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Proportional set size in MB: shared pages (ffmpeg's libraries) counted once across processes. */
export async function pssMb(pid: number): Promise<number> {
  const m = /^Pss:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Every living descendant of a process (children, grandchildren, ...). */
export async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const name of await readdir('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    const ppid = Number(stat.split(') ')[1]!.split(' ')[1]);
    parents.set(ppid, [...(parents.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

export interface Usage {
  /** CPU over the window, in % of one core. */
  cpuPct: number;
  /** Summed PSS at the end of the window, MB. */
  pssMb: number;
  processes: number;
}

/** CPU and PSS of a set of processes over a window (processes that end meanwhile count as far as seen). */
export async function usageOver(pids: number[], seconds: number): Promise<Usage> {
  const safe = <T>(p: Promise<T>, d: T) => p.catch(() => d);
  const before = await Promise.all(pids.map((p) => safe(cpuSeconds(p), 0)));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await Promise.all(pids.map((p, i) => safe(cpuSeconds(p), before[i]!)));
  const pss = await Promise.all(pids.map((p) => safe(pssMb(p), 0)));
  const cpu = after.reduce((s, t, i) => s + (t - before[i]!), 0);
  return {
    cpuPct: (cpu / seconds) * 100,
    pssMb: pss.reduce((a, b) => a + b, 0),
    processes: pids.length,
  };
}

/** Busy and total jiffies of the whole machine, from /proc/stat's first line. */
export async function machineTicks(): Promise<{ busy: number; total: number }> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1, 9);
  const n = fields.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - n[3]! - n[4]!, total }; // idle and iowait are not busy
}

/** How busy the whole machine was between two readings of machineTicks, in %. */
export function busyPct(from: { busy: number; total: number }, to: { busy: number; total: number }): number {
  return to.total > from.total ? ((to.busy - from.busy) / (to.total - from.total)) * 100 : 0;
}

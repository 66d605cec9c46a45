/**
 * Camera lab benchmark: CPU and memory of the lab per simulated camera while every camera's main
 * stream is pulled over RTSP/TCP (as a recorder would). Scale mode with 20 and 50 cameras, and live
 * mode with 2 cameras for comparison. Run: npx tsx bench/lab.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { startLab } from '../lab/index.js';
import { grabGrey } from '../lab/observe.js';

const TICKS = 100; // USER_HZ on Linux
const SAMPLE_MS = 10_000;

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

interface Result {
  mode: string;
  cameras: number;
  cpuPercentTotal: number;
  cpuPercentPerCamera: number;
  rssMiBTotal: number;
  rssMiBPerCamera: number;
}

async function measure(mode: 'live' | 'scale', cameras: number): Promise<Result> {
  const lab = await startLab({ cameras, mode });
  const pullers: ChildProcess[] = [];
  try {
    // One viewer per camera, so every camera's media pipeline is running.
    for (const cam of lab.cameras) {
      pullers.push(
        spawn(
          'ffmpeg',
          ['-v', 'error', '-rtsp_transport', 'tcp', '-i', cam.rtsp.main, '-c', 'copy', '-f', 'null', '-'],
          {
            stdio: 'ignore',
          },
        ),
      );
    }
    // Ready when the last camera delivers frames; then let everything settle.
    await grabGrey(lab.cameras[lab.cameras.length - 1]!.rtsp.sub, { frames: 2, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 3000));
    const pids = [lab.serverPid];
    const t0 = pids.map(cpuTicks);
    const node0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    const t1 = pids.map(cpuTicks);
    const node1 = process.cpuUsage(node0);
    const serverCpu = ((t1[0]! - t0[0]!) / TICKS / (SAMPLE_MS / 1000)) * 100;
    const nodeCpu = ((node1.user + node1.system) / 1e6 / (SAMPLE_MS / 1000)) * 100;
    const rss = rssMiB(lab.serverPid) + process.memoryUsage().rss / 1024 / 1024;
    const total = serverCpu + nodeCpu;
    return {
      mode,
      cameras,
      cpuPercentTotal: round(total),
      cpuPercentPerCamera: round(total / cameras),
      rssMiBTotal: round(rss),
      rssMiBPerCamera: round(rss / cameras),
    };
  } finally {
    for (const p of pullers) p.kill('SIGKILL');
    await lab.stop();
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

export async function runLabBench(): Promise<void> {
  const results: Result[] = [];
  for (const [mode, n] of [
    ['live', 2],
    ['scale', 20],
    ['scale', 50],
  ] as const) {
    const r = await measure(mode, n);
    results.push(r);
    console.log(JSON.stringify({ bench: 'lab', resolution: '1280x720+640x360@15', ...r }));
  }
  console.table(results);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runLabBench().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

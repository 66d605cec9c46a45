/**
 * Ingest figures, side by side in one run: CPU and memory of the supervision (the service's own
 * process plus its ffmpeg pulls, which also decode for the picture checks) against a bare
 * `ffmpeg -c copy` of the same lab streams; detection latency of each lab fault (median, p95 over
 * repeated injections); and a long leak run. Needs Postgres and Redis as the tests do.
 * Run alone: npx tsx bench/ingest.ts. BENCH_INGEST_CAMERAS (default 20), BENCH_INGEST_SECONDS
 * (measuring window, default 30), BENCH_INGEST_REPEATS (injections per fault, default 5),
 * BENCH_INGEST_LEAK_CYCLES (default 200; 0 skips).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { startLab, type Lab, type LabFaultKind } from '../lab/index.js';
import type { DomainEvents } from '../src/events.js';
import { seedUnit, startTestService, type TestService } from '../test/support/service.js';

const TICK = 100; // USER_HZ
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = (k: string, d: number) => Number(process.env[k] ?? d);

async function cpuTicks(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}
async function rssKb(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
async function childPids(parent: number): Promise<number[]> {
  const out = await new Promise<string>((resolve) => {
    const c = spawn('ps', ['-o', 'pid=,comm=', '--ppid', String(parent)]);
    let s = '';
    c.stdout.on('data', (d: Buffer) => (s += d.toString()));
    c.on('close', () => resolve(s));
  });
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
}

/** CPU (% of one core) and summed RSS of the given processes over a window. */
async function measure(pids: () => Promise<number[]>, seconds: number, selfCpu = false) {
  const list = await pids();
  const before = await Promise.all(list.map((p) => cpuTicks(p).catch(() => 0)));
  const self0 = process.cpuUsage();
  await sleep(seconds * 1000);
  const after = await Promise.all(list.map((p) => cpuTicks(p).catch(() => 0)));
  const rss = (await Promise.all(list.map((p) => rssKb(p).catch(() => 0)))).reduce((a, b) => a + b, 0);
  let cpu = after.reduce((s, t, i) => s + (t - before[i]!), 0) / TICK / seconds;
  let mem = rss;
  if (selfCpu) {
    const d = process.cpuUsage(self0);
    cpu += (d.user + d.system) / 1e6 / seconds;
    mem += process.memoryUsage().rss / 1024;
  }
  return { cpuPct: Math.round(cpu * 1000) / 10, rssMb: Math.round(mem / 102.4) / 10, processes: list.length };
}

async function bareCopy(lab: Lab, seconds: number) {
  const procs: ChildProcess[] = lab.cameras.map((c) =>
    spawn(
      'ffmpeg',
      [
        '-nostdin',
        '-loglevel',
        'error',
        '-rtsp_transport',
        'tcp',
        '-i',
        c.rtsp.main,
        '-c',
        'copy',
        '-f',
        'null',
        '-',
      ],
      {
        stdio: 'ignore',
      },
    ),
  );
  await sleep(3000);
  const m = await measure(async () => procs.map((p) => p.pid!), seconds);
  await Promise.all(procs.map((p) => new Promise((r) => (p.once('exit', r), p.kill('SIGTERM')))));
  return m;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

export async function runIngestBench(): Promise<void> {
  const n = env('BENCH_INGEST_CAMERAS', 20);
  const seconds = env('BENCH_INGEST_SECONDS', 30);
  const repeats = env('BENCH_INGEST_REPEATS', 5);
  const leakCycles = env('BENCH_INGEST_LEAK_CYCLES', 200);
  const lab = await startLab({ cameras: n, mode: 'scale' });
  let svc: TestService | null = null;
  try {
    const bare = await bareCopy(lab, seconds);
    const m = lab.cameras[0]!.main;
    const floorKbps = Math.round((m.width * m.height * m.fps) / 7000 / 12);
    svc = await startTestService({
      ROLES: 'api,ingest',
      PROBE_ON_REGISTER: 'false',
      INGEST_POLL_MS: '500',
      CLOCK_CHECK_INTERVAL_MS: '3000',
      // The lab's loops compress far below their target rate; its low_bitrate fault is 1/24 of it.
      FLOOR_MIN_KBPS: String(floorKbps),
    });
    const { operator, site } = await seedUnit(svc);
    const ids: string[] = [];
    for (const c of lab.cameras) {
      const r = await operator.post('/cameras', {
        siteId: site.id,
        name: c.name,
        onvif: { host: c.onvif.host, port: c.onvif.port, username: c.username, password: c.password },
      });
      if (r.status !== 201) throw new Error(`register failed: ${JSON.stringify(r.body)}`);
      ids.push(r.body.id);
    }
    const status = async (id: string) => (await operator.get(`/cameras/${id}`)).body;
    for (let t = Date.now(); Date.now() - t < 60_000; await sleep(500)) {
      const all = await Promise.all(ids.map(status));
      if (all.every((c) => c.status === 'online')) break;
    }
    console.error(
      `ingest bench: ${(await Promise.all(ids.map(status))).map((c) => `${c.status}(${c.statusReason})`).join(',')}`,
    );
    for (const id of ids) {
      const r = await operator.post(`/cameras/${id}/reference`);
      console.error(`ingest bench: reference ${r.status}`);
    }
    await sleep(3000);
    const supervised = await measure(
      async () => [...(await childPids(process.pid))].filter(Boolean),
      seconds,
      true,
    );

    console.error(`ingest bench: measured supervision`);
    // Detection latency per fault on the first camera.
    const faults: DomainEvents['camera.fault'][] = [];
    svc.services.events.on('camera.fault', (e) => faults.push(e));
    const kinds: LabFaultKind[] = [
      'offline',
      'stalled',
      'black',
      'frozen',
      'covered',
      'blurred',
      'moved',
      'low_fps',
      'low_bitrate',
      'low_resolution',
      'clock_skew',
    ];
    const latency: Record<string, number[]> = {};
    const camId = lab.cameras[0]!.id;
    for (let r = 0; r < repeats; r++)
      for (const kind of kinds) {
        const healthy = async () => {
          const c = await status(ids[0]!);
          return c.status === 'online' && c.health.picture === 'ok';
        };
        for (let t = Date.now(); !(await healthy()) && Date.now() - t < 30_000;) await sleep(200);
        const since = faults.length;
        const at = Date.now();
        await lab.inject(camId, kind);
        let hit: DomainEvents['camera.fault'] | undefined;
        for (let t = Date.now(); !hit && Date.now() - t < 20_000; await sleep(50))
          hit = faults.slice(since).find((f) => f.cameraId === ids[0] && f.kind === kind && f.active);
        (latency[kind] ??= []).push(hit ? Date.parse(hit.at) - at : NaN);
        await lab.clear(camId, kind);
      }

    // Leak run: offline/stall cycles on one camera.
    let leak = 'skipped';
    if (leakCycles > 0) {
      const procs0 = svc.services.processes.count;
      const heap0 = process.memoryUsage().heapUsed;
      for (let i = 0; i < leakCycles; i++) {
        const kind = i % 2 === 0 ? 'offline' : 'stalled';
        await lab.inject(camId, kind);
        for (let t = Date.now(); (await status(ids[0]!)).status !== 'offline' && Date.now() - t < 10_000;)
          await sleep(50);
        await lab.clear(camId, kind);
        for (let t = Date.now(); (await status(ids[0]!)).status !== 'online' && Date.now() - t < 20_000;)
          await sleep(100);
      }
      await sleep(3000);
      global.gc?.();
      leak = `${leakCycles} cycles: processes ${procs0} -> ${svc.services.processes.count}, heap ${(heap0 / 1e6).toFixed(1)} -> ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`;
    }

    console.log(
      `\n== ingest: ${n} lab cameras (scale mode, ${lab.cameras[0]!.main.width}x${lab.cameras[0]!.main.height}@${lab.cameras[0]!.main.fps}), ${seconds} s windows`,
    );
    console.log('                         CPU (% of a core)   RSS (MB)   processes');
    console.log(
      `bare ffmpeg -c copy      ${String(bare.cpuPct).padStart(10)}   ${String(bare.rssMb).padStart(10)}   ${bare.processes}`,
    );
    console.log(
      `supervision (svc+ffmpeg) ${String(supervised.cpuPct).padStart(10)}   ${String(supervised.rssMb).padStart(10)}   ${supervised.processes} children`,
    );
    console.log(`bitrate floor for the run: ${floorKbps} kbit/s`);
    console.log('\nfault detection latency (ms), median / p95 / max over', repeats, 'injections');
    for (const [kind, xs] of Object.entries(latency))
      console.log(
        `  ${kind.padEnd(15)} ${pct(xs, 50)} / ${pct(xs, 95)} / ${Math.max(...xs)}${xs.some(Number.isNaN) ? ' (some missed)' : ''}`,
      );
    console.log(`\nleak run: ${leak}`);
  } finally {
    await svc?.stop();
    await lab.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  runIngestBench().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

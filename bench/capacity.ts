/**
 * Capacity of one machine, side by side in one run (issue: 150 supervised, recorded cameras on 2 cores):
 *  1. the bare copy segmenter (`ffmpeg -c copy -f segment`, one per camera) on BENCH_BASE cameras,
 *     beside it the same plus decoding the keyframes, and the service's own pull run by ffmpeg alone
 *     (where the cost goes: the table's "Not met" lines name it);
 *  2. the built service (`node dist/src/main.js`, every role, PostgreSQL and Redis as in production)
 *     supervising, recording and relaying the same cameras: CPU and PSS per camera, as ratios to 1;
 *  3. steps of N cameras until the service's CPU passes 70 % of the machine (or would, at the last
 *     step's cost per camera) or a camera is not supervised, recorded and healthy; at N = 50 the
 *     offline → socket.io alert p95 and the segment close → stored p95, once the store lane has
 *     caught up, with how busy the whole machine was;
 *  4. a second service with its footage in S3 (s3rver), 50 cameras: segment close → stored again.
 * The lab (scale mode: pre-encoded 720p loops at ~1.5–2 Mbps) runs in this process's children and is
 * not counted. Run: npm run bench (or npx tsx bench/capacity.ts). BENCH_STEPS (default
 * 10,25,50,75,100,150,200), BENCH_WINDOW_SECONDS (default 15), BENCH_BASE (default 10).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { io } from 'socket.io-client';
import { startLab, type Lab } from '../lab/index.js';
import { pullArgs, pullInputList, SAMPLE_DECODE_ARGS } from '../src/ingest/ffmpeg-args.js';
import { freePort } from '../src/platform/ports.js';
import { segmentOutputArgs } from '../src/recording/ffmpeg-args.js';
import { ApiClient, dropSchema, makeCreditCode, TEST_DATABASE_URL } from '../test/support/service.js';
import { withBuild } from '../test/system/build.js';
import { startS3 } from '../test/system/service.js';
import { busyPct, descendants, machineTicks, pssMb, usageOver, type Usage } from './support/procfs.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const num = (k: string, d: number) => Number(process.env[k] ?? d);
const STEPS = (process.env.BENCH_STEPS ?? '10,25,50,75,100,150,200').split(',').map(Number);
const WINDOW = num('BENCH_WINDOW_SECONDS', 15);
const BASE = num('BENCH_BASE', 10);
/** The service's default segment length, so upload load is what a deployment sees. */
const SEGMENT_SECONDS = 10;
const CPU_LIMIT_PCT = 0.7 * os.cpus().length * 100;
/** The step at which the latency figures are taken (alerts, store local and S3), the issue's N. */
const LATENCY_AT = 50;
const ADMIN_PASSWORD = 'bench-admin-password';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;

/**
 * ffmpeg alone, one per camera, on the first `n` lab cameras: the bench drains every pipe it
 * writes. `args` builds a camera's command line; `input` (the camera list) goes to its stdin.
 */
async function ffmpegAlone(
  lab: Lab,
  n: number,
  args: (url: string, dir: string) => string[],
  input?: (url: string) => string,
): Promise<Usage> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-ffmpeg-'));
  const procs: ChildProcess[] = await Promise.all(
    lab.cameras.slice(0, n).map(async (c, i) => {
      const camDir = path.join(dir, String(i));
      await mkdir(camDir);
      const p = spawn('ffmpeg', args(c.rtsp.main, camDir), { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
      p.stdin!.end(input?.(c.rtsp.main) ?? '');
      for (const out of [p.stdout, p.stderr, p.stdio[3]] as Readable[]) out.resume();
      return p;
    }),
  );
  try {
    await sleep(5000);
    return await usageOver(
      procs.map((p) => p.pid!),
      WINDOW,
    );
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

const copySegmentArgs = (dir: string) => [
  ...['-map', '0:v:0', '-c', 'copy', '-f', 'segment', '-segment_time', String(SEGMENT_SECONDS)],
  ...['-segment_format', 'mp4', '-reset_timestamps', '1', path.join(dir, '%06d.mp4')],
];

/** The bare copy segmenter: what recording alone costs. */
const bareCopy = (lab: Lab, n: number) =>
  ffmpegAlone(lab, n, (url, dir) => [
    ...['-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', url],
    ...copySegmentArgs(dir),
  ]);

/** The bare copy plus decoding the keyframes (one a second) the picture checks need, and nothing else. */
const copyAndKeyframes = (lab: Lab, n: number) =>
  ffmpegAlone(lab, n, (url, dir) => [
    ...['-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', ...SAMPLE_DECODE_ARGS, '-i', url],
    ...copySegmentArgs(dir),
    ...['-map', '0:v:0', '-f', 'null', '-'],
  ]);

/** The service's own pull (recording, packet log, picture samples), its ffmpeg without the node around it. */
const servicePull = (lab: Lab, n: number) =>
  ffmpegAlone(
    lab,
    n,
    (_url, dir) =>
      pullArgs({
        ioTimeoutMs: 5000,
        outputs: [segmentOutputArgs({ dir, pullId: 1, segmentSeconds: SEGMENT_SECONDS })],
        sample: { width: 320, height: 180, fps: 2 },
      }),
    (url) => pullInputList(url, 5000),
  );

/** The built service as a child process, configured only by environment. */
async function startService(extraEnv: Record<string, string> = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-svc-'));
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const logFile = path.join(os.tmpdir(), `${schema}-service.log`);
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH!,
      HOME: process.env.HOME ?? dataDir,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL: 'redis://127.0.0.1:6379',
      ADMIN_PASSWORD,
      SEGMENT_SECONDS: String(SEGMENT_SECONDS),
      PROBE_ON_REGISTER: 'false',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    // Its log (warnings and errors) is kept beside the run, so a failure under load can be read.
    stdio: ['ignore', openSync(logFile, 'w'), 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 240) throw new Error('service not ready after 120 s');
    await sleep(500);
  }
  const admin = await new ApiClient(url).login('admin', ADMIN_PASSWORD);
  return {
    child,
    url,
    admin,
    logFile,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await dropSchema(schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
type Service = Awaited<ReturnType<typeof startService>>;

interface CameraView {
  id: string;
  name: string;
  status: string;
  health: { faults?: string[] } | null;
}

async function cameras(svc: Service, siteId: string): Promise<CameraView[]> {
  const r = await svc.admin.get<{ cameras: CameraView[] }>(`/sites/${siteId}`);
  if (r.status !== 200) throw new Error(`GET /sites/${siteId}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.cameras;
}

/** Cameras that are not online with no fault, and cameras with no footage ending in the last 3 segments. */
async function unhealthy(
  svc: Service,
  siteId: string,
): Promise<{ notOnline: string[]; notRecorded: string[] }> {
  const list = await cameras(svc, siteId);
  const notOnline = list
    .filter((c) => c.status !== 'online' || (c.health?.faults?.length ?? 0) > 0)
    .map((c) => `${c.name}:${c.status}${c.health?.faults?.length ? `(${c.health.faults.join(',')})` : ''}`);
  const since = Date.now() - 3 * SEGMENT_SECONDS * 1000 - 5000;
  const notRecorded: string[] = [];
  // Ten at a time: one at a time, a saturated step (75 cameras) spent minutes per pass on them.
  for (let i = 0; i < list.length; i += 10) {
    await Promise.all(
      list.slice(i, i + 10).map(async (c) => {
        const r = await svc.admin.get<{ items: { endedAt: string }[] }>(
          `/recordings?cameraId=${c.id}&from=${new Date(since).toISOString()}`,
        );
        if (!r.body.items?.some((s) => Date.parse(s.endedAt) >= since)) notRecorded.push(c.name);
      }),
    );
  }
  return { notOnline, notRecorded };
}

/**
 * Seconds until no store job waits (twice in a row, 500 ms apart), up to a minute: how long the
 * store lane took to catch up with the segments of the cameras just added.
 */
async function storeLaneCatchUp(svc: Service): Promise<number | string> {
  const t0 = Date.now();
  let calm = 0;
  while (Date.now() - t0 < 60_000) {
    const health = await svc.admin.get<{ queues: { name: string; waiting: number; delayed: number }[] }>(
      '/system/health',
    );
    const store = health.body.queues?.find((q) => q.name === 'segment.store');
    calm = store && store.waiting + store.delayed === 0 ? calm + 1 : 0;
    if (calm === 2) return r1((Date.now() - t0) / 1000);
    await sleep(500);
  }
  return '> 60';
}

/** Segment close → stored: the service's histogram, as the share within 1 s and an upper-bound p95. */
async function storeLatency(svc: Service, since: Map<string, number>) {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^recording_segment_store_seconds_bucket\{le="([^"]+)"\} (\d+)/gm))
    buckets.set(m[1]!, Number(m[2]) - (since.get(m[1]!) ?? 0));
  const total = buckets.get('+Inf') ?? 0;
  let p95 = '+Inf';
  for (const [le, count] of buckets)
    if (count >= total * 0.95) {
      p95 = le;
      break;
    }
  return {
    samples: total,
    withinOneSecond: total ? r2((buckets.get('1') ?? 0) / total) : NaN,
    p95AtMost: p95,
    raw: buckets,
  };
}

async function offlineAlerts(svc: Service, lab: Lab, siteId: string, ids: Map<string, string>, runs = 5) {
  const socket = io(svc.url, { path: '/live', auth: { token: svc.admin.token }, transports: ['websocket'] });
  const events: { name: string; alert?: { rule: string; cameraId?: string } }[] = [];
  socket.onAny((name: string, payload: object) => events.push({ ...payload, name }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  await socket.timeout(10_000).emitWithAck('subscribe', { siteId });
  const samples: number[] = [];
  try {
    for (const cam of lab.cameras.slice(0, runs)) {
      const cameraId = ids.get(cam.id)!;
      const from = events.length;
      const t0 = Date.now();
      await lab.inject(cam.id, 'offline', { durationMs: 15_000 });
      while (
        !events
          .slice(from)
          .some(
            (e) =>
              e.name === 'alert.opened' &&
              e.alert?.rule === 'camera_offline' &&
              e.alert.cameraId === cameraId,
          )
      ) {
        if (Date.now() - t0 > 30_000) throw new Error(`no offline alert for ${cam.id}`);
        await sleep(20);
      }
      samples.push(Date.now() - t0);
    }
  } finally {
    socket.close();
  }
  return { runs: samples.length, p50: Math.round(pct(samples, 50)), p95: Math.round(pct(samples, 95)) };
}

/** A unit and a site with one zone, for the bench's cameras; returns the site's id. */
async function benchSite(svc: Service): Promise<string> {
  const unit = await svc.admin.post<{ id: string }>('/units', {
    name: 'Bench unit',
    creditCode: makeCreditCode(),
    kind: 'third_party',
    region: '江苏 南京',
  });
  const site = await svc.admin.post<{ id: string }>('/sites', {
    unitId: unit.body.id,
    name: 'Bench site',
    zones: [{ name: 'Hall' }],
  });
  return site.body.id;
}

/** Registers lab cameras by their RTSP address; `ids` maps lab camera id → service camera id. */
async function addCameras(svc: Service, siteId: string, cams: Lab['cameras'], ids: Map<string, string>) {
  for (const cam of cams) {
    const c = await svc.admin.post<{ id: string }>('/cameras', {
      siteId,
      name: cam.name,
      rtspUrl: cam.rtsp.main,
    });
    if (c.status !== 201) {
      const site = await svc.admin.get(`/sites/${siteId}`);
      throw new Error(
        `camera ${cam.id}: ${c.status} ${JSON.stringify(c.body)}; site: ${site.status} ${JSON.stringify(site.body).slice(0, 300)}`,
      );
    }
    ids.set(cam.id, c.body.id);
  }
}

/** Waits until every camera is online and has recorded (two segments' time), or the deadline passes. */
async function settle(svc: Service, siteId: string, n: number) {
  const deadline = Date.now() + 60_000 + n * 500;
  let state = await unhealthy(svc, siteId);
  while ((state.notOnline.length || state.notRecorded.length) && Date.now() < deadline) {
    await sleep(2000);
    state = await unhealthy(svc, siteId);
  }
  return state;
}

/**
 * Segment close → stored with the footage in S3 (s3rver, in this process): a second service with
 * `n` cameras, measured in the steady state as the local store is.
 */
async function s3StoreLatency(lab: Lab, n: number) {
  const s3 = await startS3('footage');
  let svc: Service | null = null;
  try {
    svc = await startService({
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: 'S3RVER',
      S3_SECRET_KEY: 'S3RVER',
      S3_BUCKET: 'footage',
    });
    const siteId = await benchSite(svc);
    const ids = new Map<string, string>();
    // Added as the main run adds them, BASE and then the rest: 50 at once ran the pool dry.
    for (const upTo of [BASE, n]) {
      await addCameras(svc, siteId, lab.cameras.slice(ids.size, upTo), ids);
      const state = await settle(svc, siteId, upTo);
      if (state.notOnline.length) throw new Error(`${state.notOnline.length} of ${upTo} not online`);
    }
    // Measured whether or not the lane caught up: a lane that cannot keep up shows in the rates.
    const catchUp = await storeLaneCatchUp(svc);
    const before = (await storeLatency(svc, new Map())).raw;
    const machineBefore = await machineTicks();
    const seconds = 3 * SEGMENT_SECONDS;
    await sleep(seconds * 1000);
    const latency = await storeLatency(svc, before);
    return {
      ...latency,
      catchUp,
      storedPerSecond: r1(latency.samples / seconds),
      closedPerSecond: r1(n / SEGMENT_SECONDS),
      machineBusy: r1(busyPct(machineBefore, await machineTicks())),
    };
  } finally {
    await svc?.stop();
    await s3.stop();
  }
}

export async function runCapacityBench(): Promise<void> {
  const started = Date.now();
  // The S3 run takes LATENCY_AT cameras whatever the steps.
  const maxN = Math.max(...STEPS, BASE, LATENCY_AT);
  console.error(`starting a lab of ${maxN} scale-mode cameras (720p, 15 fps)`);
  const lab = await startLab({ cameras: maxN, mode: 'scale', width: 1280, height: 720, fps: 15 });
  let svc: Service | null = null;
  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, unknown> = {};
  try {
    const bare = await bareCopy(lab, BASE);
    console.error(`bare copy of ${BASE}: ${r1(bare.cpuPct)} % CPU, ${r1(bare.pssMb)} MB PSS`);
    // Where the service's cost goes, side by side: decoding for the picture checks, then the rest of its pull.
    const keyframes = await copyAndKeyframes(lab, BASE);
    const pull = await servicePull(lab, BASE);
    console.error(
      `copy + keyframe decode: ${r1(keyframes.cpuPct)} % CPU; the service's pull alone: ${r1(pull.cpuPct)} % CPU, ${r1(pull.pssMb)} MB PSS`,
    );
    figures.keyframesRatio = r2(keyframes.cpuPct / bare.cpuPct);
    figures.pullRatioCpu = r2(pull.cpuPct / bare.cpuPct);
    figures.pullRatioPss = r2(pull.pssMb / bare.pssMb);
    svc = await withBuild(startService);
    const siteId = await benchSite(svc);
    const ids = new Map<string, string>();
    let capacity = 0;
    let nodePssAtBase = 0;
    let baseCpu = 0;
    let last: { n: number; cpuPct: number } | null = null;
    for (const n of STEPS) {
      // A step that would pass the limit at the last step's cost per camera cannot pass; run anyway,
      // it saturated the machine (the lab shares its cores) for minutes before it failed.
      const projected = last ? (last.cpuPct / last.n) * n : 0;
      if (projected > CPU_LIMIT_PCT) {
        figures.stopReason = `at ${n}: not run, ${r1(projected / os.cpus().length)} % of the machine projected from ${last!.n} cameras`;
        rows.push({ cameras: n, ok: `no: ${figures.stopReason}` });
        break;
      }
      try {
        await addCameras(svc, siteId, lab.cameras.slice(ids.size, n), ids);
        let state = await settle(svc, siteId, n);
        // The ramp's first segments queue behind each other; the figures are the steady state's.
        const catchUp = await storeLaneCatchUp(svc);
        if (n === LATENCY_AT) figures.storeCatchUpSeconds = catchUp;
        const storeBefore = (await storeLatency(svc, new Map())).raw;
        const machineBefore = await machineTicks();
        const children = await descendants(svc.child.pid!);
        const [nodeUse, childUse] = await Promise.all([
          usageOver([svc.child.pid!], WINDOW),
          usageOver(children, WINDOW),
        ]);
        const use = { cpuPct: nodeUse.cpuPct + childUse.cpuPct, pssMb: nodeUse.pssMb + childUse.pssMb };
        const nodePss = await pssMb(svc.child.pid!);
        state = await unhealthy(svc, siteId);
        const ok =
          state.notOnline.length === 0 && state.notRecorded.length === 0 && use.cpuPct <= CPU_LIMIT_PCT;
        rows.push({
          cameras: n,
          'cpu % (machine)': r1(use.cpuPct / os.cpus().length),
          'cpu %/camera': r2(use.cpuPct / n),
          'node cpu %/camera': r2(nodeUse.cpuPct / n),
          'pss MB/camera': r1(use.pssMb / n),
          'node pss MB': r1(nodePss),
          'not online/healthy': state.notOnline.length,
          'not recorded': state.notRecorded.length,
          ok: ok ? 'yes' : 'no',
        });
        console.error(
          JSON.stringify(rows.at(-1)),
          state.notOnline.slice(0, 5),
          state.notRecorded.slice(0, 5),
        );
        if (n === BASE) {
          figures.nodeRatioCpu = r2(nodeUse.cpuPct / bare.cpuPct);
          nodePssAtBase = nodePss;
          baseCpu = use.cpuPct;
          figures.ratioCpu = r2(use.cpuPct / bare.cpuPct);
          figures.ratioPss = r2(use.pssMb / bare.pssMb);
          figures.bareCpuPerCamera = r2(bare.cpuPct / BASE);
          figures.barePssPerCamera = r1(bare.pssMb / BASE);
        } else if (nodePssAtBase) {
          figures.nodeGrowthMbPerCamera = r2((nodePss - nodePssAtBase) / (n - BASE));
          // What one more camera costs, without the process's fixed share (pools, timers, engine).
          figures.marginalRatioCpu = r2((use.cpuPct - baseCpu) / (n - BASE) / (bare.cpuPct / BASE));
        }
        if (n === LATENCY_AT) {
          await sleep(2 * SEGMENT_SECONDS * 1000);
          figures.store = await storeLatency(svc, storeBefore);
          // The whole machine (the service, the lab's cameras, PostgreSQL, Redis, the bench).
          figures.machineBusy = r1(busyPct(machineBefore, await machineTicks()));
          figures.serviceShare = r1(use.cpuPct / os.cpus().length);
          figures.alerts = await offlineAlerts(svc, lab, siteId, ids);
          console.error(
            `at ${LATENCY_AT}:`,
            JSON.stringify({ store: figures.store, alerts: figures.alerts }),
          );
        }
        if (!ok) {
          figures.stopReason = `at ${n}: ${state.notOnline.length} not online and healthy, ${state.notRecorded.length} not recorded, ${r1(use.cpuPct / os.cpus().length)} % of the machine`;
          break;
        }
        capacity = n;
        last = { n, cpuPct: use.cpuPct };
        figures.capacityPss = r1(use.pssMb);
        figures.capacityCpuPerCamera = r2(use.cpuPct / n);
      } catch (err) {
        // The service failing under load (an API error, a crash) ends the stepping at this N.
        // fetch's own message is "fetch failed"; what failed is in its cause.
        const cause = (err as Error).cause as Error | undefined;
        const message = `${(err as Error).message}${cause ? `: ${cause.message}` : ''}`;
        const exited = svc.child.exitCode ?? svc.child.signalCode;
        const why = exited !== null ? `${message} (the service exited: ${exited})` : message;
        rows.push({ cameras: n, ok: `no: ${why.slice(0, 120)}` });
        figures.stopReason = `at ${n}: ${why.slice(0, 200)}`;
        console.error(`at ${n}: ${why} (the service's log: ${svc.logFile})`);
        break;
      }
    }
    figures.capacity = capacity;
    await svc.stop();
    svc = null;
    // The same figure with the footage in S3, on a service of its own (the machine is shared).
    try {
      figures.storeS3 = await s3StoreLatency(lab, LATENCY_AT);
      console.error(`S3 at ${LATENCY_AT}:`, JSON.stringify(figures.storeS3));
    } catch (err) {
      figures.storeS3Error = (err as Error).message;
      console.error(`S3 at ${LATENCY_AT}: ${(err as Error).message}`);
    }
  } finally {
    await svc?.stop();
    await lab.stop();
  }
  const store = figures.store as Awaited<ReturnType<typeof storeLatency>> | undefined;
  const storeS3 = figures.storeS3 as Awaited<ReturnType<typeof s3StoreLatency>> | undefined;
  const alerts = figures.alerts as Awaited<ReturnType<typeof offlineAlerts>> | undefined;
  console.table(rows);
  const wall = Math.round((Date.now() - started) / 1000);
  const perCamera = figures.capacityCpuPerCamera as number | undefined;
  const cpuWhy =
    `its ffmpeg alone is ${figures.pullRatioCpu}× bare, of which decoding a 720p keyframe a second ` +
    `for the picture checks is ${r2((figures.keyframesRatio as number) - 1)}× bare by itself; node ` +
    `(picture checks, packet log, health, segment hashing and upload) adds ${figures.nodeRatioCpu}× bare`;
  const busyWhy =
    figures.machineBusy !== undefined
      ? `the machine was ${figures.machineBusy} % busy at ${LATENCY_AT} cameras, the service ${figures.serviceShare} % of it ` +
        `(the rest: the lab's ${LATENCY_AT} RTSP cameras, PostgreSQL, Redis and the bench on the same 2 cores)`
      : undefined;
  const targets: { figure: string; value: unknown; target: string; met: boolean; why?: string }[] = [
    {
      figure: `CPU per camera, service ÷ bare copy (${BASE} cameras)`,
      value: figures.ratioCpu,
      target: '≤ 1.5',
      met: (figures.ratioCpu as number) <= 1.5,
      why: cpuWhy,
    },
    {
      figure: `CPU of each camera added past ${BASE}, ÷ bare copy per camera`,
      value: figures.marginalRatioCpu,
      target: '≤ 1.5',
      met: (figures.marginalRatioCpu as number) <= 1.5,
      why: cpuWhy,
    },
    {
      figure: `PSS per camera, service ÷ bare copy (${BASE} cameras)`,
      value: figures.ratioPss,
      target: '≤ 1.3',
      met: (figures.ratioPss as number) <= 1.3,
      why: `its ffmpeg alone is ${figures.pullRatioPss}× bare (the decoder's pictures and the scaler)`,
    },
    {
      figure: 'node PSS growth per added camera, MB',
      value: figures.nodeGrowthMbPerCamera,
      target: '≤ 5',
      met: (figures.nodeGrowthMbPerCamera as number) <= 5,
    },
    {
      figure: 'cameras supervised, recorded, healthy at ≤ 70 % CPU',
      value: figures.capacity,
      target: '≥ 150',
      met: (figures.capacity as number) >= 150,
      why: [
        perCamera &&
          `${perCamera} % of a core per camera: 70 % of ${os.cpus().length} cores holds about ` +
            `${Math.floor(CPU_LIMIT_PCT / perCamera)}`,
        figures.stopReason,
      ]
        .filter(Boolean)
        .join('; '),
    },
    { figure: 'PSS at that capacity, MB', value: figures.capacityPss, target: '', met: true },
    {
      figure: `offline → socket.io alert p95 at ${LATENCY_AT}, ms`,
      value: alerts?.p95,
      target: '≤ 2000',
      met: (alerts?.p95 ?? Infinity) <= 2000,
      why: busyWhy,
    },
    {
      figure: `store lane caught up after adding cameras to ${LATENCY_AT}, s`,
      value: figures.storeCatchUpSeconds,
      target: '',
      met: true,
    },
    {
      figure: `segment close → stored p95 at ${LATENCY_AT} (local), s, at most`,
      value: store?.p95AtMost,
      target: '≤ 1',
      met: Number(store?.p95AtMost) <= 1,
      why: [store && `${Math.round(store.withinOneSecond * 100)} % within 1 s`, busyWhy]
        .filter(Boolean)
        .join('; '),
    },
    {
      figure: `segment close → stored p95 at ${LATENCY_AT} (S3), s, at most`,
      value: storeS3?.p95AtMost ?? figures.storeS3Error,
      target: '≤ 1',
      met: Number(storeS3?.p95AtMost) <= 1,
      why:
        storeS3 &&
        `${Math.round(storeS3.withinOneSecond * 100)} % within 1 s; ${storeS3.storedPerSecond} segments stored a ` +
          `second against ${storeS3.closedPerSecond} closed (caught up after the ramp: ${storeS3.catchUp} s); the ` +
          `machine was ${storeS3.machineBusy} % busy, s3rver included (it runs in the bench's process)`,
    },
    { figure: 'bench wall time, s', value: wall, target: '≤ 600', met: wall <= 600 },
  ];
  console.table(targets.map(({ why: _why, met, ...t }) => ({ ...t, met: met ? 'yes' : 'NO' })));
  const missed = targets.filter((t) => !t.met);
  if (missed.length) {
    console.log('Not met:');
    for (const t of missed)
      console.log(`- ${t.figure}: ${String(t.value)} against ${t.target}${t.why ? `; ${t.why}` : ''}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await runCapacityBench();

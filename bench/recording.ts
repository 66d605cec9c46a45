/**
 * Recording figures, side by side: CPU and memory per recorded camera against a bare
 * `ffmpeg -c copy -f segment` of the same lab streams; time from segment close to object stored
 * (p50/p95) with many cameras (lab scale mode); export of one hour of footage against a plain file
 * copy of the same bytes. Needs Postgres and Redis as the tests do. Run alone: npx tsx bench/recording.ts
 * (BENCH_RECORDING_CAMERAS sets the many-camera count, default 50).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLab, type Lab } from '../lab/index.js';
import { newId } from '../src/platform/ids.js';
import { sha256File } from '../src/platform/hashing.js';
import { objectKey } from '../src/recording/segment-uploader.js';
import { TestPull } from '../test/recording/support.js';
import { seedUnit, sql, startTestService, type TestService } from '../test/support/service.js';

const TICK = 100; // USER_HZ on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function procCpuTicks(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}
async function procRssKb(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

async function addCamera(svc: TestService, siteId: string, unitId: string, name: string): Promise<string> {
  // Straight into the registry: onboarding probes the camera, which is not what is measured here.
  const id = newId();
  await sql(
    svc.schema,
    `INSERT INTO cameras (id, site_id, unit_id, name, source, rtsp_url) VALUES ($1, $2, $3, $4, 'rtsp', 'rtsp://lab/x')`,
    [id, siteId, unitId, name],
  );
  return id;
}

/** CPU seconds per wall second and RSS per camera: bare segmenter vs the recording path. */
async function perCamera(svc: TestService, lab: Lab, siteId: string, unitId: string, seconds: number) {
  const cams = lab.cameras;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-bare-'));
  const bare: ChildProcess[] = cams.map((c, i) =>
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
        '-map',
        '0:v:0',
        '-c',
        'copy',
        '-f',
        'segment',
        '-segment_time',
        '10',
        '-segment_format',
        'mp4',
        path.join(dir, `${i}_%06d.mp4`),
      ],
      { stdio: 'ignore' },
    ),
  );
  await sleep(3000);
  const b0 = await Promise.all(bare.map((p) => procCpuTicks(p.pid!)));
  await sleep(seconds * 1000);
  const b1 = await Promise.all(bare.map((p) => procCpuTicks(p.pid!)));
  const bareRss = await Promise.all(bare.map((p) => procRssKb(p.pid!)));
  bare.forEach((p) => p.kill('SIGINT'));
  await sleep(500);
  await rm(dir, { recursive: true, force: true });
  const bareCpu = b1.reduce((a, t, i) => a + (t - b0[i]!), 0) / TICK / seconds / cams.length;

  const rec = svc.services.recording;
  const pulls = await Promise.all(
    cams.map(async (c, i) => {
      const id = await addCamera(svc, siteId, unitId, `bench ${i}`);
      return TestPull.rtsp({ id, siteId, unitId, name: `bench ${i}` }, c.rtsp.main, rec.output);
    }),
  );
  pulls.forEach((p) => p.start());
  await sleep(3000);
  const pids = pulls.map((p) => (p as unknown as { child: ChildProcess }).child.pid!);
  const o0 = await Promise.all(pids.map(procCpuTicks));
  const n0 = process.cpuUsage();
  const heap0 = process.memoryUsage().rss;
  await sleep(seconds * 1000);
  const o1 = await Promise.all(pids.map(procCpuTicks));
  const n1 = process.cpuUsage(n0);
  const oursRss = await Promise.all(pids.map(procRssKb));
  const heap1 = process.memoryUsage().rss;
  await Promise.all(pulls.map((p) => p.stop()));
  await rec.output.idle();
  const ffCpu = o1.reduce((a, t, i) => a + (t - o0[i]!), 0) / TICK / seconds / cams.length;
  // The service's own share: this process's CPU (watcher, hashing, upload, indexing; the API idles).
  const nodeCpu = (n1.user + n1.system) / 1e6 / seconds / cams.length;
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    bareCpu,
    oursCpu: ffCpu + nodeCpu,
    ffCpu,
    nodeCpu,
    bareRssMb: avg(bareRss) / 1024,
    oursRssMb: avg(oursRss) / 1024 + Math.max(0, heap1 - heap0) / 1024 / 1024 / cams.length,
  };
}

/** p50/p95 of segment close → object stored and indexed, with many cameras at once. */
async function storeLatency(svc: TestService, lab: Lab, siteId: string, unitId: string, seconds: number) {
  const rec = svc.services.recording;
  const before = rec.uploader.latencies.length;
  const pulls = await Promise.all(
    lab.cameras.map(async (c, i) => {
      const id = await addCamera(svc, siteId, unitId, `many ${i}`);
      return TestPull.rtsp({ id, siteId, unitId, name: `many ${i}` }, c.rtsp.main, rec.output);
    }),
  );
  pulls.forEach((p) => p.start());
  await sleep(seconds * 1000);
  await Promise.all(pulls.map((p) => p.stop()));
  await rec.output.idle();
  const deadline = Date.now() + 60_000;
  for (;;) {
    let left = 0;
    for (const cam of await rec.spool.cameras()) left += (await rec.spool.ready(cam)).length;
    if (left === 0 || Date.now() > deadline) break;
    await sleep(500);
  }
  const xs = rec.uploader.latencies.slice(before);
  return { segments: xs.length, p50: pct(xs, 50), p95: pct(xs, 95) };
}

/** Export one hour (360 stored 10 s segments) and copy the same objects into one file. */
async function exportHour(svc: TestService, siteId: string, unitId: string) {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-export-'));
  const seg = path.join(tmp, 'seg.mp4');
  await new Promise<void>((resolve, reject) => {
    const p = spawn('ffmpeg', [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=15',
      '-t',
      '10',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '30',
      '-b:v',
      '2M',
      '-movflags',
      '+frag_keyframe+empty_moov+default_base_moof',
      seg,
    ]);
    p.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${code}`))));
  });
  const cameraId = newId();
  await sql(
    svc.schema,
    `INSERT INTO cameras (id, site_id, unit_id, name, source, rtsp_url) VALUES ($1, $2, $3, 'hour', 'rtsp', 'rtsp://127.0.0.1:9/x')`,
    [cameraId, siteId, unitId],
  );
  const { sha256: sha } = await sha256File(seg);
  const bytes = (await stat(seg)).size;
  const t0 = Date.UTC(2024, 0, 1);
  const keys: string[] = [];
  for (let i = 0; i < 360; i++) {
    const key = objectKey(unitId, siteId, cameraId, t0 + i * 10_000, 10_000);
    await svc.services.store.put(key, seg);
    await svc.services.recording.index.insert({
      cameraId,
      siteId,
      unitId,
      startedAt: new Date(t0 + i * 10_000),
      endedAt: new Date(t0 + (i + 1) * 10_000),
      bytes,
      codec: 'h264',
      width: 1280,
      height: 720,
      sha256: sha,
      objectKey: key,
    });
    keys.push(key);
  }
  const admin = await svc.admin();
  let start = performance.now();
  const res = await fetch(
    `${svc.url}/api/v1/cameras/${cameraId}/export.mp4?from=${new Date(t0).toISOString()}&to=${new Date(t0 + 3600_000).toISOString()}`,
    { headers: { authorization: `Bearer ${admin.token}` } },
  );
  let exported = 0;
  for await (const chunk of res.body!) exported += (chunk as Uint8Array).length;
  const exportS = (performance.now() - start) / 1000;
  const root = path.join(svc.config.DATA_DIR, 'footage');
  start = performance.now();
  const out = path.join(tmp, 'copy.bin');
  await writeFile(out, '');
  const { open } = await import('node:fs/promises');
  const fh = await open(out, 'w');
  for (const k of keys) await fh.write(await readFile(path.join(root, k)));
  await fh.close();
  const copyS = (performance.now() - start) / 1000;
  await mkdir(tmp, { recursive: true });
  await copyFile(out, path.join(tmp, 'copy2.bin'));
  await rm(tmp, { recursive: true, force: true });
  return { exportS, copyS, mb: (bytes * 360) / 1e6, exportedMb: exported / 1e6 };
}

export async function runRecordingBench(): Promise<void> {
  const many = Number(process.env.BENCH_RECORDING_CAMERAS ?? 50);
  // Per-camera cost with the same 10 s segments as the bare segmenter, in a service of its own.
  let pc;
  const svc10 = await startTestService({ SEGMENT_SECONDS: '10', ROLES: 'api,worker' });
  try {
    const { site, unit } = await seedUnit(svc10, 'Bench10');
    const lab = await startLab({ cameras: 4, mode: 'scale', width: 1280, height: 720, fps: 15 });
    try {
      pc = await perCamera(svc10, lab, site.id, unit.id, 30);
    } finally {
      await lab.stop();
    }
  } finally {
    await svc10.stop();
  }
  const svc = await startTestService({ SEGMENT_SECONDS: '2', ROLES: 'api,worker' });
  try {
    const { site, unit } = await seedUnit(svc, 'Bench');
    const big = await startLab({ cameras: many, mode: 'scale', width: 640, height: 360, fps: 15 });
    let lat;
    try {
      lat = await storeLatency(svc, big, site.id, unit.id, 30);
    } finally {
      await big.stop();
    }
    const ex = await exportHour(svc, site.id, unit.id);
    console.log('recording: per camera (4 lab cameras 720p15, 10 s segments, 30 s)');
    console.log(
      `  CPU  bare ffmpeg segment ${(pc.bareCpu * 100).toFixed(2)} %  |  recording ${(pc.oursCpu * 100).toFixed(2)} % (ffmpeg ${(pc.ffCpu * 100).toFixed(2)} % + service ${(pc.nodeCpu * 100).toFixed(2)} %)  ratio ${(pc.oursCpu / pc.bareCpu).toFixed(2)}x (target <= 1.2x)`,
    );
    console.log(
      `  RSS  bare ${pc.bareRssMb.toFixed(1)} MB  |  recording ${pc.oursRssMb.toFixed(1)} MB  ratio ${(pc.oursRssMb / pc.bareRssMb).toFixed(2)}x`,
    );
    console.log(
      `recording: segment close -> stored, ${many} cameras 360p15, 2 s segments, 30 s: ${lat.segments} segments, p50 ${lat.p50.toFixed(2)} s, p95 ${lat.p95.toFixed(2)} s`,
    );
    console.log(
      `recording: export of 1 h (360 x 10 s, ${ex.mb.toFixed(0)} MB) ${ex.exportS.toFixed(2)} s (${(ex.exportedMb / ex.exportS).toFixed(0)} MB/s)  |  plain copy ${ex.copyS.toFixed(2)} s (${(ex.mb / ex.copyS).toFixed(0)} MB/s)`,
    );
  } finally {
    await svc.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  runRecordingBench().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

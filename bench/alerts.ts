/**
 * Real-time supervision benchmark, side by side in one run:
 *  1. health event → alert at a socket.io client (engine + push; the grace is part of it),
 *  2. lab camera going offline → alert at a socket.io client (whole path: ingest detection,
 *     engine, push), when the ingest role supervises cameras in this build,
 *  3. live latency from the source to an HTTP-FLV client through ffmpeg (-c copy) → RTMP →
 *     node-media-server → the API's signed proxy,
 *  4. service CPU per live viewer (curl viewers in their own processes).
 * Run: npx tsx bench/alerts.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { startLab } from '../lab/index.js';
import { systemActor } from '../src/access/actor.js';
import {
  connectLive,
  makeUser,
  now,
  publish,
  pushToMedia,
  runningSession,
  seedSite,
  waitFor,
} from '../test/alerts/helpers.js';
import { startTestService, type TestService } from '../test/support/service.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const round = (n: number) => Math.round(n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventToClient(svc: TestService, graceMs: number) {
  const { admin, unit, site, camera } = await seedSite(svc, 'Bench events');
  const client = await connectLive(svc.url, admin.token!);
  await client.subscribe({ siteId: site.id });
  const samples: number[] = [];
  // One fault kind per sample: repeating one would trip the flapping rule, which opens at once.
  for (const kind of [
    'black',
    'frozen',
    'blurred',
    'covered',
    'moved',
    'stalled',
    'clock_skew',
    'low_fps',
  ] as const) {
    const ref = { cameraId: camera.id, siteId: site.id, unitId: unit.id, kind };
    const t0 = Date.now();
    await publish(svc, 'camera.fault', { ...ref, active: true, at: now() });
    const before = client.events.length;
    // Matched by detail (the fault kind): the ingest role may raise other alerts on this site meanwhile.
    const mine = (name: string) => (e: { name: string; alert?: { detail: string } }) =>
      e.name === name && e.alert?.detail === kind;
    await waitFor(() => client.events.slice(before).find(mine('alert.opened')), 15_000);
    samples.push(Date.now() - t0);
    await publish(svc, 'camera.fault', { ...ref, active: false, at: now() });
    await waitFor(() => client.events.slice(before).find(mine('alert.resolved')), 30_000);
  }
  client.close();
  return {
    graceMs,
    p50: round(pct(samples, 50)),
    p95: round(pct(samples, 95)),
    minusGraceP95: round(pct(samples, 95) - graceMs),
  };
}

async function labOfflineToClient(svc: TestService) {
  const lab = await startLab({ cameras: 1, mode: 'live', width: 320, height: 180, fps: 15 });
  try {
    const { admin, site } = await seedSite(svc, 'Bench lab');
    const cam = lab.cameras[0]!;
    const camera = await svc.services.cameras.create(systemActor, {
      siteId: site.id,
      name: 'lab',
      source: 'rtsp',
      rtspUrl: cam.rtsp.sub,
    });
    const client = await connectLive(svc.url, admin.token!);
    // From seq 0: the supervisor may have reported the camera online before the subscription.
    await client.subscribe({ siteId: site.id, afterSeq: 0 });
    // A small lab picture may sit below the picture floor (degraded): up is all this needs.
    const online = await waitFor(
      () =>
        client.events.find(
          (e) =>
            e.name === 'camera.status' &&
            e.cameraId === camera.id &&
            ['online', 'degraded'].includes(e.status),
        ),
      25_000,
    ).catch(() => null);
    if (!online) return { skipped: 'no ingest supervisor reported the lab camera up in this build' };
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = client.events.length;
      const t0 = Date.now();
      await lab.inject(cam.id, 'offline');
      await waitFor(
        () =>
          client.events
            .slice(before)
            .find((e) => e.name === 'alert.opened' && e.alert.rule === 'camera_offline'),
        30_000,
      );
      samples.push(Date.now() - t0);
      console.error(`  lab offline → alert: ${samples.at(-1)} ms`);
      await lab.clear(cam.id, 'offline');
      await waitFor(
        () =>
          client.events
            .slice(before)
            .find((e) => e.name === 'alert.resolved' && e.alert.rule === 'camera_offline'),
        60_000,
      );
    }
    client.close();
    return { runs: samples.length, p50: round(pct(samples, 50)), p95: round(pct(samples, 95)) };
  } finally {
    await lab.stop();
  }
}

/** FLV tags of a live HTTP-FLV response: arrival time and timestamp of every video tag. */
async function readFlvVideoTags(url: string, durationMs: number, onTag: (ts: number, at: number) => void) {
  const res = await fetch(url);
  const reader = res.body!.getReader();
  let buf = Buffer.alloc(0);
  let pos = 13; // FLV header (9) + first PreviousTagSize (4)
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const { value, done } = await reader.read();
    if (done) break;
    const at = Date.now();
    buf = Buffer.concat([buf, Buffer.from(value)]);
    while (buf.length >= pos + 11) {
      const type = buf[pos]!;
      const size = buf.readUIntBE(pos + 1, 3);
      const ts = buf.readUIntBE(pos + 4, 3) | (buf[pos + 7]! << 24);
      if (buf.length < pos + 11 + size + 4) break;
      if (type === 9) onTag(ts, at);
      pos += 11 + size + 4;
    }
  }
  await reader.cancel();
}

async function liveLatency(svc: TestService) {
  const { unit, site, operator, camera } = await seedSite(svc, 'Bench live');
  const supervisor = await makeUser(svc, 'supervisor');
  await runningSession(svc, operator, unit.id, site.id, supervisor.id);
  const urls = (await supervisor.client.get(`/cameras/${camera.id}/live`)).body;
  // The player attaches first, so it receives every frame from the first one (no GOP cache).
  const latencies: number[] = [];
  let startedAt = 0;
  const reading = readFlvVideoTags(urls.flvUrl, 12_000, (ts, at) => {
    if (ts > 1000) latencies.push(at - (startedAt + ts));
  });
  await sleep(300);
  // The source is paced in real time (-re): the frame with timestamp t leaves it at start + t.
  startedAt = Date.now();
  const procs = pushToMedia(svc, camera.id);
  await reading;
  for (const p of procs) p.kill('SIGKILL');
  // startedAt includes ffmpeg start-up and the source's first-frame delay, so these figures
  // overstate the latency slightly; the spread between p50 and p95 is the jitter.
  return { frames: latencies.length, p50: round(pct(latencies, 50)), p95: round(pct(latencies, 95)) };
}

async function cpuPerViewer(svc: TestService) {
  const { unit, site, operator, camera } = await seedSite(svc, 'Bench cpu');
  const supervisor = await makeUser(svc, 'supervisor');
  await runningSession(svc, operator, unit.id, site.id, supervisor.id);
  const procs = pushToMedia(svc, camera.id);
  await waitFor(() => svc.services.mediaServer!.isPublishing(camera.id), 20_000);
  const viewers: ChildProcess[] = [];
  const sample = async () => {
    await sleep(1000);
    const c0 = process.cpuUsage();
    await sleep(5000);
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) / 1e6 / 5) * 100;
  };
  const rows: { viewers: number; serviceCpuPercent: number }[] = [];
  for (const n of [0, 4, 8]) {
    while (viewers.length < n) {
      const urls = (await supervisor.client.get(`/cameras/${camera.id}/live`)).body;
      viewers.push(spawn('curl', ['-s', '-N', '-o', '/dev/null', urls.flvUrl], { stdio: 'ignore' }));
    }
    rows.push({ viewers: n, serviceCpuPercent: Math.round((await sample()) * 10) / 10 });
  }
  for (const v of viewers) v.kill('SIGKILL');
  for (const p of procs) p.kill('SIGKILL');
  const base = rows[0]!.serviceCpuPercent;
  const last = rows[rows.length - 1]!;
  return {
    rows,
    cpuPercentPerViewer: Math.round(((last.serviceCpuPercent - base) / last.viewers) * 100) / 100,
  };
}

export async function runAlertsBench(): Promise<void> {
  // Default grace; a short resolve hold and flap window so repeated runs each measure a fresh
  // alert rather than the flapping rule (which opens at once) or the hold.
  const svc = await startTestService({ ALERT_RESOLVE_HOLD_MS: '1000', ALERT_FLAP_WINDOW_MS: '1000' });
  try {
    const step = async <T>(name: string, fn: () => Promise<T>) => {
      console.error(`alerts bench: ${name}…`);
      return fn();
    };
    const results = {
      eventToSocketClientMs: await step('event → client', () =>
        eventToClient(svc, svc.config.ALERT_GRACE_MS),
      ),
      labOfflineToSocketClientMs: await step('lab offline → client', () => labOfflineToClient(svc)),
      liveLatencySourceToFlvClientMs: await step('live latency', () => liveLatency(svc)),
      serviceCpuPerLiveViewer: await step('CPU per viewer', () => cpuPerViewer(svc)),
    };
    console.log(JSON.stringify({ bench: 'alerts', ...results }, null, 2));
  } finally {
    await svc.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runAlertsBench().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

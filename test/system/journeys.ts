import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import type { Lab, LabCamera } from '../../lab/index.js';
import {
  makeUser,
  registerCamera,
  seedUnit,
  suffix,
  type Api,
  type Batch,
  type BatchRecordings,
  type Camera,
  type ExportStatus,
  type Recording,
  type Report,
  type Verification,
} from './api.js';
import { LiveClient } from './live.js';
import { flipByteInStoredObject, playInFfprobe, sha256, verifyExportOffline } from './media.js';
import { OFFLINE_ALERT_TITLE, SupervisorPage } from './page.js';
import { GiveUp, poll, sleep } from './poll.js';
import { tmpDir, type Deployment } from './service.js';

/*
 * The journeys a–c as functions of a running deployment (either shape) and lab cameras, asserting
 * what the user sees through the public API, socket.io and the served page.
 */

export const iso = (ms: number) => new Date(ms).toISOString();
const ms = (t: string) => new Date(t).getTime();
const q = (v: string) => encodeURIComponent(v);

/** Runs `fn` with a scratch directory, removed afterwards. */
async function withScratch<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await tmpDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function segmentSeconds(d: Deployment): number {
  return Number(d.processes[0]!.env.SEGMENT_SECONDS ?? 10);
}

/** Waits until the camera reports `status`; returns when it was first seen. */
export async function waitStatus(
  api: Api,
  cameraId: string,
  status: Camera['status'],
  timeoutMs: number,
): Promise<number> {
  let last: Camera | null = null;
  await poll(
    `camera ${cameraId} ${status}`,
    async () => {
      last = await api.get<Camera>(`/cameras/${cameraId}`);
      return last.status === status;
    },
    timeoutMs,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; camera last showed ${JSON.stringify(last)}`);
  });
  return Date.now();
}

export async function listRecordings(api: Api, cameraId: string): Promise<Recording[]> {
  return (await api.get<{ items: Recording[] }>(`/recordings?cameraId=${cameraId}`)).items;
}

/** Polls until the camera has `n` recordings listed; returns them and when they were first seen. */
export async function waitRecordings(
  api: Api,
  cameraId: string,
  n: number,
  timeoutMs: number,
): Promise<{ items: Recording[]; at: number }> {
  const items = await poll(
    `${n} recordings of camera ${cameraId}`,
    async () => {
      const items = await listRecordings(api, cameraId);
      return items.length >= n ? items : null;
    },
    timeoutMs,
    200,
  );
  return { items, at: Date.now() };
}

/** Each listed recording's sha256 and size equal the bytes the API serves for it. */
export async function expectServedBytesMatch(api: Api, items: Recording[]): Promise<void> {
  for (const r of items) {
    const bytes = await api.bytes(`/recordings/${r.id}/content`);
    expect({ id: r.id, bytes: bytes.length, sha256: sha256(bytes) }).toEqual({
      id: r.id,
      bytes: r.bytes,
      sha256: r.sha256,
    });
  }
}

/**
 * a. Unit operator: one camera by ONVIF and one by RTSP go online; footage is listed within two
 * segment lengths; each listed sha256 equals the bytes served; the HLS playlist and the one-file
 * export play in ffprobe.
 */
export async function operatorJourney(d: Deployment, labCams: [LabCamera, LabCamera]): Promise<void> {
  const seg = segmentSeconds(d);
  const { admin, operator, site } = await seedUnit(d.url, 'Operator unit', ['Bench 1', 'Bench 2']);
  const byOnvif = await registerCamera(operator, site.id, labCams[0], 'onvif', [site.zones[0]!.id]);
  const byRtsp = await registerCamera(operator, site.id, labCams[1], 'rtsp', [site.zones[1]!.id]);
  expect(byOnvif.source).toBe('onvif');
  expect(byOnvif.streams.map((s) => s.profile)).toContain('main');
  expect(byRtsp.source).toBe('rtsp');

  const cams = [
    [byOnvif, labCams[0]],
    [byRtsp, labCams[1]],
  ] as const;
  // Footage within two segment lengths of going online (polled longer, to say how late it was).
  const firsts = await Promise.all(
    cams.map(async ([cam]) => {
      const onlineAt = await waitStatus(operator, cam.id, 'online', 60_000);
      const first = await waitRecordings(operator, cam.id, 1, 60_000);
      return { camera: cam.name, listedAfterMs: first.at - onlineAt };
    }),
  );
  console.info(`a (${d.shape}): first recording listed after going online`, firsts);
  // System health, read where the API runs, shows the spools where the ingest process records.
  const health = await poll(
    'the spools in system health',
    async () => {
      const h = await admin.get<{ spool: { cameras: number }; queues: { name: string }[] }>('/system/health');
      return h.spool.cameras >= 2 ? h : null;
    },
    30_000,
  );
  expect(health.queues.map((q) => q.name)).toContain('segment.store');
  for (const f of firsts)
    expect(f.listedAfterMs, `first recording of ${f.camera} (segments of ${seg} s)`).toBeLessThanOrEqual(
      2 * seg * 1000,
    );

  await withScratch('ess-sys-a-', async (tmp) => {
    for (const [cam, lab] of cams) {
      // A few segments more, then what was listed is what is served.
      const { items } = await waitRecordings(operator, cam.id, 3, 10 * seg * 1000);
      expect(items.every((r) => r.cameraId === cam.id && /^[0-9a-f]{64}$/.test(r.sha256))).toBe(true);
      await expectServedBytesMatch(operator, items);

      const from = items[0]!.startedAt;
      const to = items.at(-1)!.endedAt;
      const spanS = (ms(to) - ms(from)) / 1000;
      const span = `from=${q(from)}&to=${q(to)}`;

      // The HLS playlist plays to the end in ffprobe (segments fetched with the same token).
      const playlist = await operator.fetch(`/cameras/${cam.id}/playback.m3u8?${span}`);
      expect(playlist.status).toBe(200);
      expect(await playlist.text()).toMatch(/^#EXTM3U/);
      const hls = await playInFfprobe(
        `${d.url}/api/v1/cameras/${cam.id}/playback.m3u8?${span}`,
        operator.token!,
      );
      expect(hls).toMatchObject({ codec: 'h264', width: lab.main.width, height: lab.main.height });
      expect(hls.frames, `HLS frames over ${spanS} s`).toBeGreaterThanOrEqual(
        Math.floor(spanS * lab.main.fps * 0.8),
      );

      // The one-file export is an MP4 that plays.
      const mp4 = await operator.bytes(`/cameras/${cam.id}/export.mp4?${span}`);
      const file = path.join(tmp, `${cam.id}.mp4`);
      await writeFile(file, mp4);
      const exported = await playInFfprobe(file);
      expect(exported).toMatchObject({ codec: 'h264', width: lab.main.width, height: lab.main.height });
      expect(exported.formatName).toContain('mp4');
      expect(exported.duration).toBeGreaterThan(spanS - seg);
      expect(exported.frames, `export frames over ${spanS} s`).toBeGreaterThanOrEqual(
        Math.floor(spanS * lab.main.fps * 0.8),
      );
    }
  });
}

async function exportArchive(api: Api, batchId: string, file: string): Promise<void> {
  const { exportId } = await api.post<{ exportId: string }>(`/batches/${batchId}/exports`);
  const done = await poll(
    `export ${exportId}`,
    async () => {
      const e = await api.get<ExportStatus>(`/exports/${exportId}`);
      if (e.status === 'failed') throw new GiveUp(`export failed: ${e.error}`);
      return e.status === 'done' ? e : null;
    },
    120_000,
    500,
  );
  expect(done.downloadUrl).toBeTruthy();
  await writeFile(file, await api.bytes(done.downloadUrl!));
}

/**
 * b. Batch: a session running over two cameras; one camera offline 20 s; the report shows that gap
 * with its reason and seconds; verify passes; the export verifies offline with `npm run
 * verify-export`; one flipped byte in one stored object is then named by both.
 */
export async function batchJourney(d: Deployment, lab: Lab, labCams: [LabCamera, LabCamera]): Promise<void> {
  const seg = segmentSeconds(d);
  const OUTAGE_MS = 20_000;
  const { operator, unitId, site } = await seedUnit(d.url, 'Batch unit', ['Station A', 'Station B']);
  const [zoneA, zoneB] = [site.zones[0]!.id, site.zones[1]!.id];
  const camA = await registerCamera(operator, site.id, labCams[0], 'rtsp', [zoneA]);
  const camB = await registerCamera(operator, site.id, labCams[1], 'onvif', [zoneB]);
  for (const c of [camA, camB]) {
    await waitStatus(operator, c.id, 'online', 60_000);
    await waitRecordings(operator, c.id, 1, 60_000);
  }

  const startsAt = Date.now() + 2000;
  const endsAt = startsAt + 42_000;
  const batch = await operator.post<Batch>('/batches', {
    code: `SYS-B-${suffix()}`,
    unitId,
    occupationCode: '6-31-01-03',
    level: 4,
    sessions: [{ siteId: site.id, startsAt: iso(startsAt), endsAt: iso(endsAt) }],
  });
  await sleep(startsAt + 8000 - Date.now());
  const outageAt = Date.now();
  await lab.inject(labCams[0].id, 'offline', { durationMs: OUTAGE_MS });
  await waitStatus(operator, camA.id, 'offline', 15_000);
  await sleep(endsAt + 1000 - Date.now());

  // Everything recorded in the session is stored before the report is read.
  const recordings = await poll(
    'footage of the whole session stored',
    async () => {
      const r = await operator.get<BatchRecordings>(`/batches/${batch.id}/recordings`);
      const done = [camA.id, camB.id].every((id) => {
        const last = r.cameras.find((c) => c.cameraId === id)?.segments.at(-1);
        return last && ms(last.endedAt) >= endsAt;
      });
      return done ? r : null;
    },
    60_000,
    1000,
  );

  const report = await operator.get<Report>(`/batches/${batch.id}/report`);
  expect(report.sessions).toHaveLength(1);
  const zones = report.sessions[0]!.zones;
  const a = zones.find((z) => z.zoneId === zoneA)!;
  const b = zones.find((z) => z.zoneId === zoneB)!;
  const detail = JSON.stringify({ zones, gaps: recordings.cameras.map((c) => c.gaps) });
  // Zone A: one gap for the outage, explained as the camera being offline, of the outage's length.
  const long = a.gaps.filter((g) => g.seconds >= 2 * seg);
  expect(long, detail).toHaveLength(1);
  const gap = long[0]!;
  expect(gap.seconds, detail).toBeGreaterThanOrEqual(OUTAGE_MS / 1000 - 1);
  expect(gap.seconds, detail).toBeLessThanOrEqual(OUTAGE_MS / 1000 + 2 * seg + 2);
  expect(Math.abs(ms(gap.from) - outageAt), detail).toBeLessThanOrEqual(2 * seg * 1000);
  const offline = gap.reasons.find((r) => r.reason === 'offline' && r.cameraId === camA.id);
  expect(offline, detail).toBeDefined();
  expect((ms(offline!.to) - ms(offline!.from)) / 1000, detail).toBeGreaterThanOrEqual(gap.seconds - seg);
  expect(a.coveredSeconds + a.gaps.reduce((n, g) => n + g.seconds, 0)).toBeCloseTo(a.totalSeconds, 1);
  // Zone B was recorded throughout.
  expect(
    b.gaps.filter((g) => g.seconds >= 2 * seg),
    detail,
  ).toEqual([]);
  expect(b.coveredSeconds).toBeGreaterThanOrEqual(b.totalSeconds - 2 * seg);

  const segments = recordings.cameras.flatMap((c) => c.segments);
  const verified = await operator.post<Verification>(`/batches/${batch.id}/verify`);
  expect(verified).toMatchObject({ ok: true, problems: [] });
  // The batch's footage runs on after the session (BATCH_MARGIN_MINUTES): later reads may see more.
  expect(verified.checkedSegments).toBeGreaterThanOrEqual(segments.length);

  await withScratch('ess-sys-b-', async (tmp) => {
    const keyFile = path.join(tmp, 'signing-key.pem');
    const key = await operator.get<{ publicKeyPem: string }>('/signing-key');
    await writeFile(keyFile, key.publicKeyPem);
    await exportArchive(operator, batch.id, path.join(tmp, 'intact.tar'));
    const intact = await verifyExportOffline(path.join(tmp, 'intact.tar'), keyFile);
    expect(intact, intact.output).toMatchObject({ exitCode: 0, ok: true, problems: [] });
    expect(intact.checkedSegments).toBeGreaterThanOrEqual(segments.length);

    // One flipped byte in one stored object of camera B (mid-session), behind the service's back.
    const segsB = recordings.cameras.find((c) => c.cameraId === camB.id)!.segments;
    const victim = segsB[Math.floor(segsB.length / 2)]!;
    await flipByteInStoredObject(d.footageRoots, victim.sha256);

    const after = await operator.post<Verification>(`/batches/${batch.id}/verify`);
    expect(after.ok).toBe(false);
    expect(after.problems.map((p) => [p.segmentId, p.kind])).toEqual([[victim.id, 'altered']]);
    await exportArchive(operator, batch.id, path.join(tmp, 'tampered.tar'));
    const tampered = await verifyExportOffline(path.join(tmp, 'tampered.tar'), keyFile);
    expect(tampered.exitCode, tampered.output).toBe(1);
    expect(tampered.ok).toBe(false);
    expect(tampered.problems.join('\n'), tampered.output).toMatch(
      new RegExp(`segment ${victim.id}\\b.*altered`),
    );
    const others = segments.filter((s) => s.id !== victim.id).map((s) => s.id);
    expect(tampered.problems.filter((p) => others.some((id) => p.includes(id)))).toEqual([]);
  });
}

/**
 * c. Supervisor: a socket.io client receives the offline alert within 3 s of the lab camera dying;
 * the served page, in Chromium, plays the camera and shows the alert without a reload.
 */
export async function supervisorJourney(d: Deployment, lab: Lab, labCam: LabCamera): Promise<void> {
  const { admin, operator, unitId, site } = await seedUnit(d.url, 'Supervised unit', ['Hall']);
  const cam = await registerCamera(operator, site.id, labCam, 'rtsp', [site.zones[0]!.id]);
  const supervisor = await makeUser(admin, 'supervisor');
  const startsAt = Date.now() + 2000;
  const batch = await operator.post<Batch>('/batches', {
    code: `SYS-C-${suffix()}`,
    unitId,
    occupationCode: '6-31-01-03',
    level: 4,
    sessions: [{ siteId: site.id, startsAt: iso(startsAt), endsAt: iso(startsAt + 3600_000) }],
  });
  await admin.post(`/batches/${batch.id}/dispatch`, { perSession: 10 });
  const assigned = await admin.get<Batch>(`/batches/${batch.id}`);
  expect(assigned.sessions[0]!.supervisorIds).toContain(supervisor.user!.id);
  await waitStatus(operator, cam.id, 'online', 60_000);

  const live = await LiveClient.connect(d.url, supervisor.token!);
  const page = await SupervisorPage.open(d.url);
  try {
    expect(await live.subscribe({ siteId: site.id })).toMatchObject({ ok: true });
    await page.signIn(supervisor.user!.username, supervisor.password);
    expect(await page.cameraTile(cam.id, 20_000)).toBe(cam.name);
    await page.waitLive(30_000);
    // The camera plays: the video's clock advances.
    await poll('the camera video to play', async () => (await page.videoTime(cam.id)) > 0.5, 30_000);
    const t1 = await page.videoTime(cam.id);
    await sleep(1500);
    expect(await page.videoTime(cam.id)).toBeGreaterThan(t1 + 0.5);
    await page.setMark();

    const diedAt = Date.now();
    await lab.inject(labCam.id, 'offline');
    const opened = await poll(
      'the offline alert at the socket.io client',
      () =>
        live.events.find(
          (e) =>
            e.name === 'alert.opened' && e.alert?.rule === 'camera_offline' && e.alert.cameraId === cam.id,
        ),
      30_000,
      20,
    );
    console.info(
      `c (${d.shape}): camera died → offline alert at the client in ${opened.receivedAt - diedAt} ms`,
    );
    expect(
      opened.receivedAt - diedAt,
      'ms from the camera dying to the alert at the client',
    ).toBeLessThanOrEqual(3000);
    await poll(
      'the offline alert on the page',
      async () => (await page.alertTitles()).includes(OFFLINE_ALERT_TITLE),
      10_000,
    );
    expect(await page.hasMark(), 'the page was not reloaded').toBe(true);
  } finally {
    live.close();
    await page.close();
    await lab.clear(labCam.id);
  }
}

/** Merges spans into disjoint ones, sorted. */
function union(spans: { from: number; to: number }[]): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (const s of [...spans].sort((x, y) => x.from - y.from)) {
    const last = out.at(-1);
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else out.push({ ...s });
  }
  return out;
}

/**
 * d. Restart: the service is SIGKILLed mid-recording and started again on the same DATA_DIR;
 * recording resumes, the lost span is a gap with its reason, no stored object is corrupt.
 */
export async function restartJourney(
  d: Deployment & { killAndRestart(downMs: number): Promise<{ killedAt: number; restartedAt: number }> },
  labCam: LabCamera,
): Promise<void> {
  const seg = segmentSeconds(d);
  const { operator, unitId, site } = await seedUnit(d.url, 'Restart unit', ['Bay']);
  const cam = await registerCamera(operator, site.id, labCam, 'rtsp', [site.zones[0]!.id]);
  const startsAt = Date.now() + 2000;
  const batch = await operator.post<Batch>('/batches', {
    code: `SYS-D-${suffix()}`,
    unitId,
    occupationCode: '6-31-01-03',
    level: 4,
    sessions: [{ siteId: site.id, startsAt: iso(startsAt), endsAt: iso(startsAt + 1800_000) }],
  });
  await waitStatus(operator, cam.id, 'online', 60_000);
  const { items: before } = await waitRecordings(operator, cam.id, 3, 20 * seg * 1000);
  // Mid-segment: half a segment after one was listed.
  const { items: listed } = await waitRecordings(operator, cam.id, before.length + 1, 10 * seg * 1000);
  await sleep((seg * 1000) / 2);

  const { killedAt, restartedAt } = await d.killAndRestart(3000);
  // Recording resumes: the camera comes back and new footage is listed.
  await waitStatus(operator, cam.id, 'online', 60_000);
  const resumed = await poll(
    'footage recorded after the restart',
    async () => {
      const items = await listRecordings(operator, cam.id);
      return items.some((r) => ms(r.startedAt) >= restartedAt) ? items : null;
    },
    60_000,
    500,
  );
  const lastBefore = Math.max(...resumed.filter((r) => ms(r.startedAt) < killedAt).map((r) => ms(r.endedAt)));
  const firstAfter = Math.min(
    ...resumed.filter((r) => ms(r.startedAt) >= killedAt).map((r) => ms(r.startedAt)),
  );
  expect(lastBefore).toBeGreaterThanOrEqual(ms(listed.at(-1)!.endedAt));
  expect(firstAfter).toBeGreaterThanOrEqual(restartedAt);

  // The lost span [lastBefore, firstAfter) is covered by gaps with reasons, among them the crash.
  const view = await poll(
    'the lost span in the batch footage',
    async () => {
      const v = await operator.get<BatchRecordings>(`/batches/${batch.id}/recordings`);
      const c = v.cameras.find((x) => x.cameraId === cam.id);
      return c && c.segments.some((s) => ms(s.startedAt) >= restartedAt) ? c : null;
    },
    30_000,
    500,
  );
  console.info(`d (${d.shape}): gaps around the restart`, view.gaps);
  const inHole = view.gaps.filter((g) => ms(g.to) > lastBefore && ms(g.from) < firstAfter);
  const detail = JSON.stringify({
    killedAt: iso(killedAt),
    restartedAt: iso(restartedAt),
    lastBefore: iso(lastBefore),
    firstAfter: iso(firstAfter),
    gaps: view.gaps,
  });
  expect(
    inHole.map((g) => g.reason),
    detail,
  ).toContain('crash');
  expect(
    inHole.filter((g) => g.reason === 'unexplained'),
    detail,
  ).toEqual([]);
  const covered = union(inHole.map((g) => ({ from: ms(g.from), to: ms(g.to) })));
  expect(covered, detail).toHaveLength(1);
  expect(covered[0]!.from, detail).toBeLessThanOrEqual(lastBefore + 500);
  expect(covered[0]!.to, detail).toBeGreaterThanOrEqual(firstAfter - 500);

  // No stored object is corrupt: the batch verifies, every listed hash is what is served, and the
  // footage across the restart exports to an MP4 that plays.
  const verified = await operator.post<Verification>(`/batches/${batch.id}/verify`);
  expect(verified, JSON.stringify(verified.problems)).toMatchObject({ ok: true, problems: [] });
  expect(verified.checkedSegments).toBeGreaterThanOrEqual(resumed.length - 1);
  await expectServedBytesMatch(operator, resumed);
  await withScratch('ess-sys-d-', async (tmp) => {
    const file = path.join(tmp, 'across-restart.mp4');
    const span = `from=${q(resumed[0]!.startedAt)}&to=${q(resumed.at(-1)!.endedAt)}`;
    await writeFile(file, await operator.bytes(`/cameras/${cam.id}/export.mp4?${span}`));
    const played = await playInFfprobe(file);
    expect(played).toMatchObject({ codec: 'h264', width: labCam.main.width, height: labCam.main.height });
  });
}

/**
 * f. Two deployments on embedded defaults beside each other (the same Redis, both with the schema
 * `public`), each with its own lab cameras: every camera of both is supervised and recorded.
 */
export async function twoDeploymentsJourney(pairs: { d: Deployment; labCams: LabCamera[] }[]): Promise<void> {
  const seg = segmentSeconds(pairs[0]!.d);
  const registered = await Promise.all(
    pairs.map(async ({ d, labCams }, i) => {
      const { operator, site } = await seedUnit(d.url, `Deployment ${i + 1} unit`, ['Room']);
      const cams: Camera[] = [];
      for (const lc of labCams)
        cams.push(await registerCamera(operator, site.id, lc, 'rtsp', [site.zones[0]!.id]));
      return { d, operator, cams };
    }),
  );
  const all = registered.flatMap(({ d, operator, cams }) => cams.map((cam) => ({ d, operator, cam })));
  // Every camera goes online and is recorded…
  await Promise.all(
    all.map(async ({ operator, cam }) => {
      await waitStatus(operator, cam.id, 'online', 60_000);
      await waitRecordings(operator, cam.id, 1, 60_000);
    }),
  );
  // …and keeps being recorded: each has new footage over the next few segment lengths.
  const since = Date.now();
  await sleep(4 * seg * 1000);
  const stale: string[] = [];
  for (const { d, operator, cam } of all) {
    const fresh = (await listRecordings(operator, cam.id)).filter((r) => ms(r.endedAt) > since);
    if (fresh.length === 0) stale.push(`${d.label}: ${cam.name}`);
    const shown = await operator.get<Camera>(`/cameras/${cam.id}`);
    expect(shown.status, `${d.label}: ${cam.name}: ${JSON.stringify(shown)}`).toBe('online');
  }
  expect(stale, 'cameras without new footage').toEqual([]);
}

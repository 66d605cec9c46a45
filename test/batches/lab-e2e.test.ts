import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { verifyArchive } from '../../src/batches/archive.js';
import { seedUnit, sql, startTestService, type ApiClient, type TestService } from '../support/service.js';
import { TestPull } from '../recording/support.js';
import { waitFor } from './footage.js';

/** End to end on the camera lab: two sites recorded, one camera offline 30 s during its session. */
describe('batch over recorded lab cameras', () => {
  let svc: TestService;
  let lab: Lab;
  let operator: ApiClient;
  const pulls: TestPull[] = [];
  let batchId: string;
  let cam1: string;
  let cam2: string;
  let site1Id: string;
  let tmp: string;
  let publicKeyPem: string;

  beforeAll(async () => {
    [svc, lab] = await Promise.all([
      startTestService({
        SEGMENT_SECONDS: '2',
        ROLES: 'api,worker',
        BATCH_MARGIN_MINUTES: '0',
        PROBE_ON_REGISTER: 'false',
      }),
      startLab({ cameras: 2, width: 320, height: 240, fps: 10 }),
    ]);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ess-e2e-'));
    const admin = await svc.admin();
    const seeded = await seedUnit(svc, 'Lab unit');
    operator = seeded.operator;
    site1Id = seeded.site.id;
    const site2 = (
      await admin.post('/sites', { unitId: seeded.unit.id, name: 'Site 2', zones: [{ name: 'Hall' }] })
    ).body;
    const add = async (siteId: string, zoneId: string, i: number) => {
      const c = await operator.post('/cameras', {
        siteId,
        name: `lab-${i}`,
        rtspUrl: lab.cameras[i]!.rtsp.main,
      });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      await operator.put(`/cameras/${c.body.id}/zones`, { zoneIds: [zoneId] });
      return c.body;
    };
    const c1 = await add(seeded.site.id, seeded.site.zones[0].id, 0);
    const c2 = await add(site2.id, site2.zones[0].id, 1);
    cam1 = c1.id;
    cam2 = c2.id;
    await svc.services.recording.startIngest();
    for (const [c, i] of [
      [c1, 0],
      [c2, 1],
    ] as const) {
      const pull = TestPull.rtsp(
        { id: c.id, siteId: c.siteId, unitId: c.unitId, name: c.name },
        lab.cameras[i]!.rtsp.main,
        svc.services.recording.output,
      );
      pull.supervise();
      pulls.push(pull);
    }
    const rec = svc.services.recording;
    await waitFor(async () => (await rec.index.last(cam1)) && (await rec.index.last(cam2)), 60_000);
    const start = Date.now() + 2000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const created = await operator.post('/batches', {
      code: 'PJ-LAB-1',
      unitId: seeded.unit.id,
      occupationCode: '6-18-01-01',
      level: 4,
      sessions: [
        {
          siteId: seeded.site.id,
          zoneIds: [seeded.site.zones[0].id],
          startsAt: iso(start),
          endsAt: iso(start + 55_000),
        },
        { siteId: site2.id, startsAt: iso(start), endsAt: iso(start + 55_000) },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    batchId = created.body.id;
    await waitFor(async () => Date.now() > start + 12_000, 30_000);
    await lab.inject(lab.cameras[0]!.id, 'offline', { durationMs: 30_000 });
    await waitFor(async () => Date.now() > start + 58_000, 90_000);
    for (const p of pulls) await p.stop();
    await rec.output.idle();
    await waitFor(
      async () => (await rec.spool.ready(cam1)).length + (await rec.spool.ready(cam2)).length === 0,
      60_000,
    );
    publicKeyPem = (await svc.api.get('/signing-key')).body.publicKeyPem;
  }, 240_000);

  afterAll(async () => {
    for (const p of pulls) await p.stop().catch(() => undefined);
    await svc?.stop();
    await lab?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function exportArchive(name: string): Promise<string> {
    const { exportId } = (await operator.post(`/batches/${batchId}/exports`)).body;
    const done = await waitFor(async () => {
      const e = (await operator.get(`/exports/${exportId}`)).body;
      if (e.status === 'failed') throw new Error(e.error);
      return e.status === 'done' ? e : null;
    }, 120_000);
    const res = await fetch(`${svc.url}${done.downloadUrl}`, {
      headers: { authorization: `Bearer ${operator.token}` },
    });
    const file = path.join(tmp, name);
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    return file;
  }

  it("reports the offline camera's gap with its recorded reason and exact seconds", async () => {
    const gaps = await sql<{ started_at: Date; ended_at: Date; reason: string }>(
      svc.schema,
      `SELECT started_at, ended_at, reason FROM recording_gaps WHERE camera_id = $1 AND ended_at - started_at > interval '10 seconds'`,
      [cam1],
    );
    expect(gaps.length, 'the recorder recorded the offline span').toBe(1);
    const recorded = gaps[0]!;
    const report = (await operator.get(`/batches/${batchId}/report`)).body;
    // Both sessions start together, so find them by site.
    const session1 = report.sessions.find((x: any) => x.siteId === site1Id);
    const session2 = report.sessions.find((x: any) => x.siteId !== site1Id);
    const zone = session1.zones[0];
    const gap = zone.gaps.find((g: any) => g.reasons.some((r: any) => r.reason === recorded.reason));
    const segs = await sql<{ started_at: Date; ended_at: Date }>(
      svc.schema,
      'SELECT started_at, ended_at FROM segments WHERE camera_id = $1 ORDER BY started_at',
      [cam1],
    );
    expect(gap, JSON.stringify({ gaps: zone.gaps, recorded, segs })).toBeDefined();
    const offline = gap.reasons.find((r: any) => r.reason === recorded.reason);
    expect(offline.cameraId).toBe(cam1);
    const expected = (recorded.ended_at.getTime() - recorded.started_at.getTime()) / 1000;
    expect(expected).toBeGreaterThan(25);
    expect(expected).toBeLessThan(45);
    expect((new Date(offline.to).getTime() - new Date(offline.from).getTime()) / 1000).toBeCloseTo(
      expected,
      3,
    );
    const gapSeconds = zone.gaps.reduce((n: number, g: any) => n + g.seconds, 0);
    expect(zone.coveredSeconds + gapSeconds).toBeCloseTo(zone.totalSeconds, 3);
    expect(session2.zones[0].coveredSeconds).toBeGreaterThan(45);
  });

  it('exports an archive that verifies offline, then names an altered and a missing segment', async () => {
    const intact = await verifyArchive(await exportArchive('intact.tar'), { publicKeyPem });
    expect(intact.problems).toEqual([]);

    const segs = await sql<{ id: string; object_key: string }>(
      svc.schema,
      'SELECT id, object_key FROM segments WHERE camera_id = $1 ORDER BY started_at',
      [cam2],
    );
    const rec = (await operator.get(`/batches/${batchId}/recordings`)).body;
    const inBatch = new Set(rec.cameras.flatMap((c: any) => c.segments.map((s: any) => s.id)));
    const [altered, missing] = segs.filter((s) => inBatch.has(s.id)).slice(3, 5);
    const root = path.join(svc.config.DATA_DIR, 'footage');
    const bytes = await readFile(path.join(root, altered!.object_key));
    bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x40;
    await writeFile(path.join(root, altered!.object_key), bytes);
    await unlink(path.join(root, missing!.object_key));

    const v = (await operator.post(`/batches/${batchId}/verify`)).body;
    expect(v.problems.map((p: any) => [p.segmentId, p.kind]).sort()).toEqual(
      [
        [altered!.id, 'altered'],
        [missing!.id, 'missing'],
      ].sort(),
    );
    const after = await verifyArchive(await exportArchive('tampered.tar'), { publicKeyPem });
    expect(after.ok).toBe(false);
    expect(after.problems.join('\n')).toMatch(new RegExp(`segment ${altered!.id} .*altered`));
    expect(after.problems.join('\n')).toMatch(new RegExp(`segment ${missing!.id} .*missing`));
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/platform/clock.js';
import { verifyArchive } from '../../src/batches/archive.js';
import { protectedSql } from '../../src/recording/retention.js';
import { seedUnit, sql, startTestService, type ApiClient, type TestService } from '../support/service.js';
import { recordFootage, SegmentFactory, waitFor, type InsertedSegment } from './footage.js';

const run = promisify(execFile);

/** Runs the offline verifier as a user would; resolves with its exit code and output. */
async function offlineVerify(archive: string, keyFile?: string): Promise<{ code: number; out: string }> {
  const args = ['tsx', 'scripts/verify-export.ts', archive, ...(keyFile ? ['--public-key', keyFile] : [])];
  try {
    const r = await run('npx', args, { cwd: process.cwd() });
    return { code: 0, out: r.stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

describe('assessment batch: footage, report, verify, export, lifecycle', () => {
  const T0 = new Date(Math.ceil(Date.now() / 1000) * 1000 + 5000);
  const at = (s: number) => new Date(T0.getTime() + s * 1000);
  const clock = new ManualClock(T0);
  let svc: TestService;
  let factory: SegmentFactory;
  let admin: ApiClient;
  let operator: ApiClient;
  let batchId: string;
  let site1: any;
  let site2: any;
  let cams: Record<'a' | 'b' | 'c', any>;
  let segs: Record<'a' | 'b' | 'c', InsertedSegment[]>;
  let tmp: string;
  let keyFile: string;

  beforeAll(async () => {
    [svc, factory] = await Promise.all([
      startTestService(
        {
          BATCH_MARGIN_MINUTES: '0',
          ROLES: 'api,worker',
          PROBE_ON_REGISTER: 'false',
          READINESS_CHECK_INTERVAL_SECONDS: '3600',
        },
        { clock },
      ),
      SegmentFactory.create(),
    ]);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ess-batch-'));
    admin = await svc.admin();
    const seeded = await seedUnit(svc, 'Nanjing Skills Centre');
    operator = seeded.operator;
    site1 = seeded.site;
    site2 = (
      await admin.post('/sites', {
        unitId: seeded.unit.id,
        name: 'Workshop <b>2</b> & "annex"',
        zones: [{ name: 'Bench 1' }],
      })
    ).body;
    const camera = async (siteId: string, name: string, zoneId: string) => {
      const c = await operator.post('/cameras', { siteId, name, rtspUrl: `rtsp://127.0.0.1:9/${name}` });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      await operator.put(`/cameras/${c.body.id}/zones`, { zoneIds: [zoneId] });
      return { id: c.body.id, siteId, unitId: seeded.unit.id };
    };
    cams = {
      a: await camera(site1.id, 'cam-a', site1.zones[0].id),
      b: await camera(site1.id, 'cam-b', site1.zones[1].id),
      c: await camera(site2.id, 'cam-c', site2.zones[0].id),
    };
    // Session 1 (site 1): 60–100 s. Camera A offline 70–80 s (recorded gap), camera B stops at 90 s (no reason).
    // Session 2 (site 2): 120–160 s, camera C records throughout.
    segs = {
      a: [
        ...(await recordFootage(svc, factory, cams.a, at(56), at(70))),
        ...(await recordFootage(svc, factory, cams.a, at(80), at(104))),
      ],
      b: await recordFootage(svc, factory, cams.b, at(60), at(90)),
      c: await recordFootage(svc, factory, cams.c, at(120), at(160)),
    };
    await sql(
      svc.schema,
      `INSERT INTO recording_gaps (id, camera_id, started_at, ended_at, reason, detail) VALUES ($1, $2, $3, $4, 'offline', 'camera unreachable')`,
      [crypto.randomUUID(), cams.a.id, at(70), at(80)],
    );
    const created = await operator.post('/batches', {
      code: 'PJ-2026-001',
      unitId: seeded.unit.id,
      occupationCode: '6-18-01-01',
      level: 3,
      sessions: [
        { siteId: site1.id, startsAt: at(60).toISOString(), endsAt: at(100).toISOString() },
        { siteId: site2.id, startsAt: at(120).toISOString(), endsAt: at(160).toISOString() },
      ],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    batchId = created.body.id;
    keyFile = path.join(tmp, 'service.pem');
    await writeFile(keyFile, (await svc.api.get('/signing-key')).body.publicKeyPem);
  }, 180_000);

  afterAll(async () => {
    await svc?.stop();
    await factory?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('reports readiness of the next session and raises session.not_ready before it', async () => {
    let r = await operator.get(`/batches/${batchId}`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('planned');
    expect(r.body.readiness.sessionId).toBe(r.body.sessions[0].id);
    expect(r.body.readiness.ready).toBe(false);
    expect(r.body.readiness.problems.join('\n')).toContain('Room A has no healthy camera');
    expect(r.body.readiness.storage.ok).toBe(true);

    await sql(svc.schema, `UPDATE cameras SET status = 'online', health = $2 WHERE id = ANY($1)`, [
      [cams.a.id, cams.b.id],
      JSON.stringify({ picture: 'ok', clockSkewMs: 40 }),
    ]);
    r = await operator.get(`/batches/${batchId}`);
    expect(r.body.readiness.problems).toEqual([]);
    expect(r.body.readiness.ready).toBe(true);

    await sql(svc.schema, `UPDATE cameras SET health = $2 WHERE id = $1`, [
      cams.b.id,
      JSON.stringify({ picture: 'covered', clockSkewMs: 9000 }),
    ]);
    const seen: unknown[] = [];
    const off = svc.services.events.on('session.not_ready', (e) => seen.push(e));
    const results = await svc.services.batchOps.readiness.checkUpcoming();
    expect(results.map((x) => x.ready)).toEqual([false, false]);
    expect(results[1]!.problems).toEqual([
      'zone Bench 1 has no healthy camera',
      'camera cam-c is connecting',
    ]);
    const problems = results[0]!.problems.join('\n');
    expect(problems).toContain('cam-b: picture covered');
    expect(problems).toContain('clock off by 9000 ms');
    expect(problems).toContain('Room B has no healthy camera');
    await waitFor(async () => seen.length === 2, 5000);
    expect(seen[0]).toMatchObject({ batchId, sessionId: results[0]!.sessionId, active: true });
    // The same finding is not raised twice.
    await svc.services.batchOps.readiness.checkUpcoming();
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toHaveLength(2);
    off();
  });

  it('does not call the segment still being written a gap while the session runs', async () => {
    // Camera B's footage ends at 90 s; at 99 s that is within the last segment and its upload.
    clock.set(at(99));
    const r = await operator.get(`/batches/${batchId}/recordings`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const b = r.body.cameras.find((c: any) => c.cameraId === cams.b.id);
    expect(b.segments.length).toBeGreaterThan(0);
    expect(b.gaps).toEqual([]);
  });

  it('lists footage per session and camera with gaps and reasons, removed cameras included', async () => {
    clock.set(at(200));
    expect((await operator.delete(`/cameras/${cams.b.id}`)).status).toBe(204);
    const r = await operator.get(`/batches/${batchId}/recordings`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const byCam = Object.fromEntries(r.body.cameras.map((c: any) => [c.cameraId, c]));
    expect(Object.keys(byCam).sort()).toEqual([cams.a.id, cams.b.id, cams.c.id].sort());
    expect(byCam[cams.a.id].zoneIds).toEqual([site1.zones[0].id]);
    expect(byCam[cams.a.id].segments).toHaveLength(
      segs.a.filter((s) => s.endedAt > at(60) && s.startedAt < at(100)).length,
    );
    expect(byCam[cams.a.id].gaps).toEqual([
      {
        from: at(70).toISOString(),
        to: at(80).toISOString(),
        reason: 'offline',
        detail: 'camera unreachable',
      },
    ]);
    expect(byCam[cams.b.id].removedAt).not.toBeNull();
    expect(byCam[cams.b.id].gaps).toEqual([
      { from: at(90).toISOString(), to: at(100).toISOString(), reason: 'unexplained', detail: null },
    ]);
    expect(byCam[cams.c.id].segments).toHaveLength(20);
    expect(byCam[cams.c.id].gaps).toEqual([]);
  });

  it('reports coverage per session and zone with exact seconds, as JSON and escaped HTML', async () => {
    const r = await operator.get(`/batches/${batchId}/report`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const [s1, s2] = r.body.sessions;
    const zoneA = s1.zones.find((z: any) => z.name === 'Room A');
    expect(zoneA).toMatchObject({ totalSeconds: 40, coveredSeconds: 30, coverage: 0.75 });
    expect(zoneA.gaps).toHaveLength(1);
    expect(zoneA.gaps[0]).toMatchObject({
      from: at(70).toISOString(),
      to: at(80).toISOString(),
      seconds: 10,
    });
    expect(zoneA.gaps[0].reasons).toEqual([
      {
        cameraId: cams.a.id,
        reason: 'offline',
        detail: 'camera unreachable',
        from: at(70).toISOString(),
        to: at(80).toISOString(),
      },
    ]);
    const zoneB = s1.zones.find((z: any) => z.name === 'Room B');
    expect(zoneB).toMatchObject({ totalSeconds: 40, coveredSeconds: 30 });
    expect(zoneB.gaps[0].reasons[0]).toMatchObject({ cameraId: cams.b.id, reason: 'unexplained' });
    expect(s1.incidents).toHaveLength(1);
    expect(s2.zones).toEqual([
      expect.objectContaining({
        name: 'Bench 1',
        totalSeconds: 40,
        coveredSeconds: 40,
        coverage: 1,
        gaps: [],
      }),
    ]);

    const html = await operator.get(`/batches/${batchId}/report?format=html`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.body).toContain('Workshop &lt;b&gt;2&lt;/b&gt; &amp; &quot;annex&quot;');
    expect(html.body).not.toContain('<b>2</b>');
    expect(html.body).toContain('offline');
  });

  it('verifies the stored footage and builds an export that verifies offline', async () => {
    const v = await operator.post(`/batches/${batchId}/verify`);
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ ok: true, problems: [] });
    expect(v.body.checkedSegments).toBe(
      segs.a.filter((s) => s.endedAt > at(60) && s.startedAt < at(100)).length + 15 + 20,
    );

    const archive = await exportBatch(operator, 'intact.tar');
    const result = await verifyArchive(archive, { publicKeyPem: await readFile(keyFile, 'utf8') });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    const m = result.manifest!;
    expect(m.batch.code).toBe('PJ-2026-001');
    expect(m.sessions).toHaveLength(2);
    expect(m.sessions[0]!.cameras.every((c) => c.video !== null)).toBe(true);
    expect(m.files.filter((f) => f.path.startsWith('sessions/'))).toHaveLength(3);
    const cli = await offlineVerify(archive, keyFile);
    expect(cli.code, cli.out).toBe(0);
    expect(cli.out).toContain('OK:');

    // One byte flipped inside the archive: the verifier names the file and fails.
    const bytes = await readFile(archive);
    const at512 = bytes.indexOf(Buffer.from('mdat'), 4096);
    bytes[at512 + 64] = bytes[at512 + 64]! ^ 0xff;
    const tampered = path.join(tmp, 'tampered.tar');
    await writeFile(tampered, bytes);
    const bad = await offlineVerify(tampered, keyFile);
    expect(bad.code, bad.out).toBe(1);
    expect(bad.out).toMatch(/PROBLEM: (file|segment) \S+.*altered/);

    // A manifest edited after signing fails the signature.
    const text = bytes.toString('latin1').replace('PJ-2026-001', 'PJ-2026-009');
    const forged = path.join(tmp, 'forged.tar');
    await writeFile(forged, Buffer.from(text, 'latin1'));
    const f = await offlineVerify(forged, keyFile);
    expect(f.code).toBe(1);
    expect(f.out).toContain('signature does not match');
  });

  async function exportBatch(client: ApiClient, name: string): Promise<string> {
    const started = await client.post(`/batches/${batchId}/exports`);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const done = await waitFor(async () => {
      const e = await client.get(`/exports/${started.body.exportId}`);
      if (e.body.status === 'failed') throw new Error(`export failed: ${e.body.error}`);
      return e.body.status === 'done' ? e.body : null;
    }, 120_000);
    expect(done.downloadUrl).toBe(`/api/v1/exports/${started.body.exportId}/download`);
    expect(done.progress).toBe(1);
    const res = await fetch(`${svc.url}${done.downloadUrl}`, {
      headers: { authorization: `Bearer ${client.token}` },
    });
    expect(res.status).toBe(200);
    const file = path.join(tmp, name);
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    return file;
  }

  it('names an altered, a missing and a chain-broken segment, in verify and in the offline verifier', async () => {
    const root = path.join(svc.config.DATA_DIR, 'footage');
    const altered = segs.c[3]!;
    const buf = await readFile(path.join(root, altered.key));
    buf[buf.length - 100] = buf[buf.length - 100]! ^ 0x01;
    await writeFile(path.join(root, altered.key), buf);
    const missing = segs.c[8]!;
    await unlink(path.join(root, missing.key));
    const dropped = segs.c[14]!;
    await sql(svc.schema, 'DELETE FROM segments WHERE id = $1', [dropped.id]);

    const v = await operator.post(`/batches/${batchId}/verify`);
    expect(v.body.ok).toBe(false);
    const kinds = v.body.problems.map((p: any) => [p.segmentId, p.kind]).sort();
    expect(kinds).toEqual(
      [
        [altered.id, 'altered'],
        [missing.id, 'missing'],
        [segs.c[15]!.id, 'chain_broken'],
      ].sort(),
    );

    const archive = await exportBatch(operator, 'after-tamper.tar');
    const cli = await offlineVerify(archive, keyFile);
    expect(cli.code, cli.out).toBe(1);
    expect(cli.out).toMatch(new RegExp(`segment ${altered.id} .*altered`));
    expect(cli.out).toMatch(new RegExp(`segment ${missing.id} .*missing`));
    expect(cli.out).toMatch(new RegExp(`segment ${segs.c[15]!.id} .*hash chain broken`));
  });

  it('approves, then rejects with the footage put on hold', async () => {
    const approved = await admin.post(`/batches/${batchId}/approve`);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('approved');
    expect((await operator.post(`/batches/${batchId}/reject`, { reason: 'x' })).status).toBe(403);
    const rejected = await admin.post(`/batches/${batchId}/reject`, { reason: '考生替考' });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'rejected', statusReason: '考生替考' });
    const holds = await sql<{ batch_id: string; released_at: Date | null }>(
      svc.schema,
      'SELECT batch_id, released_at FROM footage_holds WHERE id = $1',
      [rejected.body.holdId],
    );
    expect(holds).toEqual([{ batch_id: batchId, released_at: null }]);
    // Retention's own protection rule now covers the batch's footage, hold included.
    const held = await sql<{ p: boolean }>(
      svc.schema,
      `SELECT ${protectedSql} AS p FROM segments s WHERE s.id = $4`,
      [new Date(Date.now() + 3 * 365 * 86_400_000), 0, 730, segs.a[3]!.id],
    );
    expect(held).toEqual([{ p: true }]);
    expect((await admin.post(`/batches/${batchId}/reject`, { reason: 'again' })).status).toBe(409);
  });

  it('writes every view, verify, export and download to the audit log', async () => {
    const audit = await admin.get(`/audit?subject=${batchId}&limit=1000`);
    const actions = new Set(audit.body.items.map((i: any) => i.action));
    for (const a of [
      'batch.create',
      'batch.view',
      'batch.recordings.view',
      'batch.report.view',
      'batch.verify',
      'batch.export',
      'export.download',
      'batch.approve',
      'batch.reject',
    ])
      expect(actions, a).toContain(a);
  });
});

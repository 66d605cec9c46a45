import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeCreditCode,
  seedUnit,
  startTestService,
  type ApiClient,
  type ApiResponse,
  type TestService,
} from '../support/service.js';
import { assignSupervisor, batchBody, expectError, makeUser, REGISTRY_ENV } from './fixtures.js';

type Who = 'admin' | 'operatorA' | 'operatorB' | 'supervisor' | 'auditor';
const WHO: Who[] = ['admin', 'operatorA', 'operatorB', 'supervisor', 'auditor'];

interface World {
  unitA: any;
  unitB: any;
  siteA: any;
  siteA2: any;
  siteB: any;
  cameraA: any;
  cameraB: any;
  batchA: any;
  batchA2: any;
  batchB: any;
}

/**
 * Every role against every endpoint family. Unit A has an operator and a batch the supervisor is
 * assigned to; unit B is another tenant whose objects unit A's operator must never see (404).
 */
describe('role × endpoint matrix', () => {
  let svc: TestService;
  let as: Record<Who, ApiClient>;
  let w: World;
  let n = 0;
  const unique = (p: string) => `${p}-${++n}`;

  beforeAll(async () => {
    svc = await startTestService(REGISTRY_ENV);
    const admin = await svc.admin();
    const a = await seedUnit(svc, 'A');
    const b = await seedUnit(svc, 'B');
    const siteA2 = (
      await admin.post('/sites', { unitId: a.unit.id, name: 'A second site', zones: [{ name: 'Z' }] })
    ).body;
    const camera = async (siteId: string) =>
      (await admin.post('/cameras', { siteId, name: unique('cam'), rtspUrl: 'rtsp://192.0.2.7/live' })).body;
    const batch = async (unitId: string, siteId: string) =>
      (await admin.post('/batches', batchBody(unitId, siteId))).body;
    w = {
      unitA: a.unit,
      unitB: b.unit,
      siteA: a.site,
      siteA2,
      siteB: b.site,
      cameraA: await camera(a.site.id),
      cameraB: await camera(b.site.id),
      batchA: await batch(a.unit.id, a.site.id),
      batchA2: await batch(a.unit.id, siteA2.id),
      batchB: await batch(b.unit.id, b.site.id),
    };
    const supervisor = await makeUser(svc, 'supervisor');
    await assignSupervisor(svc, w.batchA.id, supervisor.id);
    as = {
      admin,
      operatorA: a.operator,
      operatorB: b.operator,
      supervisor: supervisor.client,
      auditor: (await makeUser(svc, 'auditor')).client,
    };
  });
  afterAll(async () => svc?.stop());

  const OK = 200;
  const CREATED = 201;
  const GONE = 204;
  /** Writes by a role that may not write at all: 403. Another unit's object: 404 (or 400 for a body reference). */
  const cases: {
    endpoint: string;
    call: (c: ApiClient, who: Who) => Promise<ApiResponse>;
    expect: Record<Who, number>;
  }[] = [
    {
      endpoint: 'POST /users',
      call: (c, who) =>
        c.post('/users', { username: unique(`u_${who}`), password: 'long-password', role: 'auditor' }),
      expect: { admin: CREATED, operatorA: 403, operatorB: 403, supervisor: 403, auditor: 403 },
    },
    {
      endpoint: 'POST /units',
      call: (c) => c.post('/units', { name: unique('unit'), creditCode: makeCreditCode(), kind: 'employer' }),
      expect: { admin: CREATED, operatorA: 403, operatorB: 403, supervisor: 403, auditor: 403 },
    },
    {
      endpoint: 'GET /units',
      call: (c) => c.get('/units'),
      expect: { admin: OK, operatorA: OK, operatorB: OK, supervisor: OK, auditor: OK },
    },
    {
      endpoint: 'GET /units/:id (unit A)',
      call: (c) => c.get(`/units/${w.unitA.id}`),
      expect: { admin: OK, operatorA: OK, operatorB: 404, supervisor: OK, auditor: OK },
    },
    {
      endpoint: 'GET /units/:id (unit B)',
      call: (c) => c.get(`/units/${w.unitB.id}`),
      expect: { admin: OK, operatorA: 404, operatorB: OK, supervisor: 404, auditor: OK },
    },
    {
      endpoint: 'POST /sites (unit A)',
      call: (c) => c.post('/sites', { unitId: w.unitA.id, name: unique('site'), zones: [{ name: 'Z' }] }),
      expect: { admin: CREATED, operatorA: CREATED, operatorB: 400, supervisor: 403, auditor: 403 },
    },
    {
      endpoint: 'GET /sites',
      call: (c) => c.get('/sites'),
      expect: { admin: OK, operatorA: OK, operatorB: OK, supervisor: OK, auditor: OK },
    },
    {
      endpoint: 'GET /sites/:id (site A, supervised)',
      call: (c) => c.get(`/sites/${w.siteA.id}`),
      expect: { admin: OK, operatorA: OK, operatorB: 404, supervisor: OK, auditor: OK },
    },
    {
      endpoint: 'GET /sites/:id (site A2, not supervised)',
      call: (c) => c.get(`/sites/${w.siteA2.id}`),
      expect: { admin: OK, operatorA: OK, operatorB: 404, supervisor: 404, auditor: OK },
    },
    {
      endpoint: 'POST /sites/:id/zones (site A)',
      call: (c) => c.post(`/sites/${w.siteA.id}/zones`, { name: unique('zone') }),
      expect: { admin: CREATED, operatorA: CREATED, operatorB: 404, supervisor: 403, auditor: 403 },
    },
    {
      endpoint: 'POST /cameras (site A)',
      call: (c) =>
        c.post('/cameras', { siteId: w.siteA.id, name: unique('cam'), rtspUrl: 'rtsp://192.0.2.8/x' }),
      expect: { admin: CREATED, operatorA: CREATED, operatorB: 400, supervisor: 403, auditor: 403 },
    },
    {
      endpoint: 'GET /cameras/:id (camera A)',
      call: (c) => c.get(`/cameras/${w.cameraA.id}`),
      expect: { admin: OK, operatorA: OK, operatorB: 404, supervisor: OK, auditor: OK },
    },
    {
      endpoint: 'GET /cameras/:id (camera B)',
      call: (c) => c.get(`/cameras/${w.cameraB.id}`),
      expect: { admin: OK, operatorA: 404, operatorB: OK, supervisor: 404, auditor: OK },
    },
    {
      endpoint: 'PUT /cameras/:id/zones (camera A)',
      call: (c) => c.put(`/cameras/${w.cameraA.id}/zones`, { zoneIds: [w.siteA.zones[0].id] }),
      expect: { admin: OK, operatorA: OK, operatorB: 404, supervisor: 403, auditor: 403 },
    },
    {
      endpoint: 'DELETE /cameras/:id (a fresh camera of site A)',
      call: async (c) => {
        const cam = await as.admin.post('/cameras', {
          siteId: w.siteA.id,
          name: unique('doomed'),
          rtspUrl: 'rtsp://192.0.2.9/x',
        });
        return c.delete(`/cameras/${cam.body.id}`);
      },
      expect: { admin: GONE, operatorA: GONE, operatorB: 404, supervisor: 403, auditor: 403 },
    },
    {
      endpoint: 'POST /batches (unit A)',
      call: (c) => c.post('/batches', batchBody(w.unitA.id, w.siteA.id)),
      expect: { admin: CREATED, operatorA: CREATED, operatorB: 400, supervisor: 403, auditor: 403 },
    },
    {
      endpoint: 'GET /batches',
      call: (c) => c.get('/batches'),
      expect: { admin: OK, operatorA: OK, operatorB: OK, supervisor: OK, auditor: OK },
    },
    {
      endpoint: 'GET /batches/:id (batch A, supervised)',
      call: (c) => c.get(`/batches/${w.batchA.id}`),
      expect: { admin: OK, operatorA: OK, operatorB: 404, supervisor: OK, auditor: OK },
    },
    {
      endpoint: 'GET /batches/:id (batch A2, not supervised)',
      call: (c) => c.get(`/batches/${w.batchA2.id}`),
      expect: { admin: OK, operatorA: OK, operatorB: 404, supervisor: 404, auditor: OK },
    },
    {
      endpoint: 'GET /batches/:id (batch B)',
      call: (c) => c.get(`/batches/${w.batchB.id}`),
      expect: { admin: OK, operatorA: 404, operatorB: OK, supervisor: 404, auditor: OK },
    },
    {
      endpoint: 'GET /audit',
      call: (c) => c.get('/audit'),
      expect: { admin: OK, operatorA: 403, operatorB: 403, supervisor: 403, auditor: OK },
    },
    {
      endpoint: 'POST /audit/verify',
      call: (c) => c.post('/audit/verify'),
      expect: { admin: OK, operatorA: 403, operatorB: 403, supervisor: 403, auditor: OK },
    },
  ];

  for (const c of cases) {
    it(c.endpoint, async () => {
      for (const who of WHO) {
        const res = await c.call(as[who], who);
        const want = c.expect[who];
        expect(res.status, `${who}: ${JSON.stringify(res.body)}`).toBe(want);
        if (want === 403) expectError(res, 403, 'forbidden');
        if (want === 404) expectError(res, 404, 'not_found');
        if (want === 400) expectError(res, 400, 'validation_failed');
      }
    });
  }

  const ids = async (c: ApiClient, path: string) =>
    ((await c.get(`${path}?limit=200`)).body.items as { id: string }[]).map((x) => x.id);

  it('lists show each role exactly what it may see', async () => {
    // Unit operators: their own unit only.
    expect(await ids(as.operatorA, '/units')).toEqual([w.unitA.id]);
    expect(await ids(as.operatorB, '/units')).toEqual([w.unitB.id]);
    const sitesA = await ids(as.operatorA, '/sites');
    expect(sitesA).toEqual(expect.arrayContaining([w.siteA.id, w.siteA2.id]));
    expect(sitesA).not.toContain(w.siteB.id);
    expect(await ids(as.operatorB, '/sites')).toEqual([w.siteB.id]);
    const batchesA = await ids(as.operatorA, '/batches');
    expect(batchesA).toEqual(expect.arrayContaining([w.batchA.id, w.batchA2.id]));
    expect(batchesA).not.toContain(w.batchB.id);
    expect(await ids(as.operatorB, '/batches')).toEqual([w.batchB.id]);

    // The supervisor: the batch it is assigned to, its site, and that batch's unit.
    expect(await ids(as.supervisor, '/batches')).toEqual([w.batchA.id]);
    expect(await ids(as.supervisor, '/sites')).toEqual([w.siteA.id]);
    expect(await ids(as.supervisor, '/units')).toEqual([w.unitA.id]);

    // Admin and auditor: everything.
    for (const who of ['admin', 'auditor'] as const) {
      expect(await ids(as[who], '/units')).toEqual(expect.arrayContaining([w.unitA.id, w.unitB.id]));
      expect(await ids(as[who], '/sites')).toEqual(
        expect.arrayContaining([w.siteA.id, w.siteA2.id, w.siteB.id]),
      );
      expect(await ids(as[who], '/batches')).toEqual(
        expect.arrayContaining([w.batchA.id, w.batchA2.id, w.batchB.id]),
      );
    }
  });

  it("another unit's site detail never leaks its cameras or coverage", async () => {
    const res = await as.operatorA.get(`/sites/${w.siteB.id}`);
    expectError(res, 404, 'not_found');
    expect(JSON.stringify(res.body)).not.toContain(w.cameraB.id);
    const own = await as.operatorA.get(`/sites/${w.siteA.id}`);
    expect(own.body.cameras.map((c: { id: string }) => c.id)).not.toContain(w.cameraB.id);
  });

  it('the auditor and the supervisor changed nothing: no write of theirs is in the audit log', async () => {
    const rows = (await as.admin.get('/audit?limit=1000')).body.items as {
      actorName: string;
      action: string;
    }[];
    const auditorName = rows.find(
      (r) => r.action === 'auth.login' && r.actorName.startsWith('auditor_'),
    )!.actorName;
    const supervisorName = rows.find(
      (r) => r.action === 'auth.login' && r.actorName.startsWith('supervisor_'),
    )!.actorName;
    for (const name of [auditorName, supervisorName]) {
      // Views may be audited too (later issues); writes are what must be absent.
      const writes = rows
        .filter((r) => r.actorName === name)
        .map((r) => r.action)
        .filter((a) => /\.(create|update|delete|zones)$/.test(a));
      expect(writes).toEqual([]);
    }
  });
});

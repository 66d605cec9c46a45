import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  ApiClient,
  makeCreditCode,
  seedUnit,
  sql,
  startTestService,
  type TestService,
} from '../support/service.js';
import { batchBody, expectError, makeUser, sessionTimes, UUID_NOT_THERE, REGISTRY_ENV } from './fixtures.js';

/** Every foundation endpoint over real HTTP on real Postgres: success paths and documented errors. */
describe('registry API', () => {
  let svc: TestService;
  let admin: ApiClient;
  let seeded: Awaited<ReturnType<typeof seedUnit>>;

  beforeAll(async () => {
    svc = await startTestService({
      ...REGISTRY_ENV,
      LOGIN_MAX_FAILURES: '3',
      LOGIN_BLOCK_SECONDS: '60',
      // The test client stands in for a reverse proxy, so its X-Forwarded-For names the client.
      TRUSTED_PROXIES: '127.0.0.1',
    });
    admin = await svc.admin();
    seeded = await seedUnit(svc, 'Registry');
  });
  afterAll(async () => svc?.stop());

  describe('auth', () => {
    it('logs in and returns a token, its expiry and the user', async () => {
      const r = await svc.api.post('/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
      expect(r.status).toBe(200);
      expect(r.body.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      expect(Date.parse(r.body.expiresAt)).toBeGreaterThan(Date.now());
      expect(r.body.user).toMatchObject({ username: 'admin', role: 'admin' });
      expect(r.body.user).not.toHaveProperty('passwordHash');
      const operatorLogin = await svc.api.post('/auth/login', {
        username: seeded.operatorName,
        password: 'operator-pass',
      });
      expect(operatorLogin.body.user).toMatchObject({ role: 'unit_operator', unitId: seeded.unit.id });
    });

    it('refuses a wrong password and an unknown user with the same 401', async () => {
      const wrong = await svc.api.request(
        'POST',
        '/auth/login',
        { username: 'admin', password: 'nope-nope' },
        { 'x-forwarded-for': '10.1.0.1' },
      );
      expectError(wrong, 401, 'unauthorized');
      const unknown = await svc.api.request(
        'POST',
        '/auth/login',
        { username: 'ghost', password: 'nope-nope' },
        { 'x-forwarded-for': '10.1.0.1' },
      );
      expectError(unknown, 401, 'unauthorized');
      expect(unknown.body.error.message).toBe(wrong.body.error.message);
    });

    it('rate-limits failed logins per account and address with 429 and Retry-After', async () => {
      const { username } = await makeUser(svc, 'auditor');
      const from = (address: string, password: string) =>
        svc.api.request('POST', '/auth/login', { username, password }, { 'x-forwarded-for': address });
      for (let i = 0; i < 3; i++) expectError(await from('10.2.0.1', 'wrong-password'), 401);
      const blocked = await from('10.2.0.1', 'wrong-password');
      expectError(blocked, 429, 'too_many_requests');
      const retryAfter = Number(blocked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Even the right password is refused while blocked; another address is not affected.
      expectError(await from('10.2.0.1', 'user-password-1'), 429);
      expect((await from('10.2.0.2', 'user-password-1')).status).toBe(200);
    });

    it('slows guessing one account from many addresses with a looser per-account limit', async () => {
      const { username } = await makeUser(svc, 'auditor');
      const from = (address: string, password: string) =>
        svc.api.request('POST', '/auth/login', { username, password }, { 'x-forwarded-for': address });
      const perAccount = svc.config.LOGIN_MAX_FAILURES * 4;
      for (let i = 0; i < perAccount; i++) expectError(await from(`10.3.${i}.1`, 'wrong-password'), 401);
      expectError(await from('10.3.200.1', 'wrong-password'), 429, 'too_many_requests');
    });

    it('answers 401 for a missing, malformed, unknown or expired token', async () => {
      expectError(await svc.api.get('/units'), 401, 'unauthorized');
      expectError(await new ApiClient(svc.url, 'not-a-token').get('/units'), 401, 'unauthorized');
      expectError(
        await svc.api.request('GET', '/units', undefined, { authorization: 'Basic YWRtaW46YWRtaW4=' }),
        401,
      );
      const user = await makeUser(svc, 'auditor');
      expect((await user.client.get('/units')).status).toBe(200);
      await sql(
        svc.schema,
        `UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`,
        [user.id],
      );
      expectError(await user.client.get('/units'), 401, 'unauthorized');
    });

    it('validates the login body', async () => {
      expectError(
        await svc.api.post('/auth/login', { username: 'admin' }),
        400,
        'validation_failed',
        'password',
      );
    });
  });

  describe('users', () => {
    it('creates users of every role; the password is never returned', async () => {
      for (const role of ['admin', 'auditor', 'supervisor'] as const) {
        const r = await admin.post('/users', { username: `new_${role}`, password: 'long-password', role });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        expect(r.body).toMatchObject({ username: `new_${role}`, role });
        expect(JSON.stringify(r.body)).not.toContain('long-password');
      }
      const op = await admin.post('/users', {
        username: 'new_operator',
        password: 'long-password',
        role: 'unit_operator',
        unitId: seeded.unit.id,
      });
      expect(op.status).toBe(201);
      expect(op.body.unitId).toBe(seeded.unit.id);
      const [row] = await sql<{ password_hash: string }>(
        svc.schema,
        'SELECT password_hash FROM users WHERE username = $1',
        ['new_operator'],
      );
      expect(row!.password_hash).toMatch(/^scrypt\$/);
      expect(row!.password_hash).not.toContain('long-password');
    });

    it('refuses a taken username (409), a missing or unknown unit (400) and non-admins (403)', async () => {
      expectError(
        await admin.post('/users', { username: 'admin', password: 'long-password', role: 'auditor' }),
        409,
        'conflict',
        'username',
      );
      expectError(
        await admin.post('/users', { username: 'op_x', password: 'long-password', role: 'unit_operator' }),
        400,
        'validation_failed',
        'unitId',
      );
      expectError(
        await admin.post('/users', {
          username: 'op_y',
          password: 'long-password',
          role: 'unit_operator',
          unitId: UUID_NOT_THERE,
        }),
        400,
        'validation_failed',
        'unitId',
      );
      expectError(
        await seeded.operator.post('/users', { username: 'op_z', password: 'long-password', role: 'admin' }),
        403,
        'forbidden',
      );
    });
  });

  describe('races', () => {
    it('answers 409, never 500, when equal creates race past the duplicate checks', async () => {
      const users = await Promise.all(
        Array.from({ length: 6 }, () =>
          admin.post('/users', { username: 'racer', password: 'long-password', role: 'auditor' }),
        ),
      );
      expect(users.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      const creditCode = makeCreditCode();
      const units = await Promise.all(
        Array.from({ length: 6 }, () => admin.post('/units', { name: 'Race', creditCode, kind: 'employer' })),
      );
      expect(units.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      for (const r of [...users, ...units].filter((x) => x.status === 409)) expectError(r, 409, 'conflict');
    });
  });

  describe('units', () => {
    it('creates, lists with cursor paging, and reads units', async () => {
      const created = await admin.post('/units', {
        name: '南京某职业技能评价中心',
        creditCode: makeCreditCode(),
        kind: 'employer',
        confidential: true,
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ kind: 'employer', confidential: true, region: null });
      expect(Date.parse(created.body.createdAt)).not.toBeNaN();

      const got = await admin.get(`/units/${created.body.id}`);
      expect(got.body).toEqual(created.body);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; body: any } = await admin.get(
          `/units?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(1);
        seen.push(...page.body.items.map((u: { id: string }) => u.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      const [count] = await sql<{ n: number }>(svc.schema, 'SELECT count(*)::int AS n FROM units');
      expect(new Set(seen).size).toBe(count!.n);
      expect(seen).toContain(created.body.id);
    });

    it('refuses a duplicate credit code (409), non-admins (403), unknown ids (404), bad ids (400)', async () => {
      expectError(
        await admin.post('/units', { name: 'Again', creditCode: seeded.unit.creditCode, kind: 'employer' }),
        409,
        'conflict',
        'creditCode',
      );
      expectError(
        await seeded.operator.post('/units', { name: 'X', creditCode: makeCreditCode(), kind: 'employer' }),
        403,
        'forbidden',
      );
      expectError(await admin.get(`/units/${UUID_NOT_THERE}`), 404, 'not_found');
      expectError(await admin.get('/units/12'), 400, 'validation_failed', 'id');
    });
  });

  describe('sites and zones', () => {
    it('creates a site with zones, adds a zone, lists and reads it with coverage', async () => {
      const site = await seeded.operator.post('/sites', {
        unitId: seeded.unit.id,
        name: '实操考场 1',
        address: '南京市玄武区',
        zones: [{ name: '工位 1' }, { name: '工位 2' }],
      });
      expect(site.status).toBe(201);
      expect(site.body.zones.map((z: { name: string }) => z.name)).toEqual(['工位 1', '工位 2']);
      expect(site.body.zones.every((z: { siteId: string }) => z.siteId === site.body.id)).toBe(true);

      const zone = await seeded.operator.post(`/sites/${site.body.id}/zones`, { name: '工位 3' });
      expect(zone.status).toBe(201);
      expect(zone.body).toMatchObject({ siteId: site.body.id, name: '工位 3' });

      const detail = await seeded.operator.get(`/sites/${site.body.id}`);
      expect(detail.status).toBe(200);
      expect(detail.body.zones).toHaveLength(3);
      expect(detail.body.cameras).toEqual([]);
      expect(detail.body.coverage).toEqual(
        detail.body.zones.map((z: { id: string }) => ({
          zoneId: z.id,
          covered: false,
          cameraIds: [],
          healthyCameraIds: [],
        })),
      );

      const list = await seeded.operator.get('/sites');
      expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([seeded.site.id, site.body.id]);
      expect(list.body.nextCursor).toBeNull();
    });

    it('refuses a duplicate zone (409), an unknown site (404) and an unknown unit (400)', async () => {
      expectError(
        await seeded.operator.post(`/sites/${seeded.site.id}/zones`, { name: 'Room A' }),
        409,
        'conflict',
        'name',
      );
      expectError(
        await seeded.operator.post(`/sites/${UUID_NOT_THERE}/zones`, { name: 'Z' }),
        404,
        'not_found',
      );
      expectError(await admin.get(`/sites/${UUID_NOT_THERE}`), 404, 'not_found');
      expectError(
        await admin.post('/sites', { unitId: UUID_NOT_THERE, name: 'Nowhere', zones: [] }),
        400,
        'validation_failed',
        'unitId',
      );
    });
  });

  describe('cameras', () => {
    it('registers by RTSP URL, assigns zones, reports coverage, and deletes', async () => {
      const cam = await seeded.operator.post('/cameras', {
        siteId: seeded.site.id,
        name: '前门枪机',
        rtspUrl: 'rtsp://viewer:pa55word@192.0.2.10:554/Streaming/Channels/101',
      });
      expect(cam.status).toBe(201);
      expect(cam.body).toMatchObject({
        siteId: seeded.site.id,
        unitId: seeded.unit.id,
        source: 'rtsp',
        rtspUrl: 'rtsp://192.0.2.10:554/Streaming/Channels/101',
        status: 'connecting',
        zoneIds: [],
      });
      expect(JSON.stringify(cam.body)).not.toMatch(/pa55word|viewer/);

      const [zoneA, zoneB] = seeded.site.zones;
      const zoned = await seeded.operator.put(`/cameras/${cam.body.id}/zones`, {
        zoneIds: [zoneA.id, zoneB.id],
      });
      expect(zoned.status).toBe(200);
      expect([...zoned.body.zoneIds].sort()).toEqual([zoneA.id, zoneB.id].sort());
      const narrowed = await seeded.operator.put(`/cameras/${cam.body.id}/zones`, { zoneIds: [zoneA.id] });
      expect(narrowed.body.zoneIds).toEqual([zoneA.id]);
      // The earlier assignment to zone B is kept as history, closed.
      const history = await sql<{ zone_id: string; assigned_to: Date | null }>(
        svc.schema,
        'SELECT zone_id, assigned_to FROM camera_zones WHERE camera_id = $1 ORDER BY assigned_from',
        [cam.body.id],
      );
      expect(history.find((h) => h.zone_id === zoneB.id)?.assigned_to).toBeInstanceOf(Date);

      const got = await seeded.operator.get(`/cameras/${cam.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: cam.body.id, status: 'connecting', health: {} });

      // Coverage needs a healthy camera: assigned but still connecting does not count.
      let site = await seeded.operator.get(`/sites/${seeded.site.id}`);
      const covA = site.body.coverage.find((c: { zoneId: string }) => c.zoneId === zoneA.id);
      expect(covA).toMatchObject({ covered: false, cameraIds: [cam.body.id], healthyCameraIds: [] });
      await sql(svc.schema, `UPDATE cameras SET status = 'online' WHERE id = $1`, [cam.body.id]);
      site = await seeded.operator.get(`/sites/${seeded.site.id}`);
      expect(site.body.coverage.find((c: { zoneId: string }) => c.zoneId === zoneA.id)).toMatchObject({
        covered: true,
        healthyCameraIds: [cam.body.id],
      });
      expect(site.body.coverage.find((c: { zoneId: string }) => c.zoneId === zoneB.id).covered).toBe(false);
      expect(site.body.cameras.map((c: { id: string }) => c.id)).toContain(cam.body.id);

      const del = await seeded.operator.delete(`/cameras/${cam.body.id}`);
      expect(del.status).toBe(204);
      expectError(await seeded.operator.get(`/cameras/${cam.body.id}`), 404, 'not_found');
      expectError(await seeded.operator.delete(`/cameras/${cam.body.id}`), 404, 'not_found');
      site = await seeded.operator.get(`/sites/${seeded.site.id}`);
      expect(site.body.coverage.every((c: { cameraIds: string[] }) => c.cameraIds.length === 0)).toBe(true);
    });

    it('refuses an unknown site (400), zones of another site (400) and unknown cameras (404)', async () => {
      expectError(
        await seeded.operator.post('/cameras', {
          siteId: UUID_NOT_THERE,
          name: 'X',
          rtspUrl: 'rtsp://192.0.2.1/x',
        }),
        400,
        'validation_failed',
        'siteId',
      );
      const other = await admin.post('/sites', {
        unitId: seeded.unit.id,
        name: 'Other site',
        zones: [{ name: 'Elsewhere' }],
      });
      const cam = await seeded.operator.post('/cameras', {
        siteId: seeded.site.id,
        name: 'C',
        rtspUrl: 'rtsp://192.0.2.1/c',
      });
      expectError(
        await seeded.operator.put(`/cameras/${cam.body.id}/zones`, {
          zoneIds: [seeded.site.zones[0].id, other.body.zones[0].id],
        }),
        400,
        'validation_failed',
        'zoneIds.1',
      );
      expectError(await admin.get(`/cameras/${UUID_NOT_THERE}`), 404, 'not_found');
      expectError(await admin.put(`/cameras/${UUID_NOT_THERE}/zones`, { zoneIds: [] }), 404, 'not_found');
      expectError(await admin.delete(`/cameras/${UUID_NOT_THERE}`), 404, 'not_found');
    });
  });

  describe('batches', () => {
    it('creates a batch with sessions, lists and reads it', async () => {
      const body = batchBody(seeded.unit.id, seeded.site.id, {
        level: 5,
        sessions: [
          { siteId: seeded.site.id, zoneIds: [seeded.site.zones[1].id], ...sessionTimes(48) },
          { siteId: seeded.site.id, ...sessionTimes(24) },
        ],
      });
      const created = await seeded.operator.post('/batches', body);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        code: body.code,
        unitId: seeded.unit.id,
        occupationCode: '6-18-01-01',
        level: 5,
        status: 'planned',
      });
      // Sessions come back in time order, with their zones and no supervisors yet.
      expect(created.body.sessions).toHaveLength(2);
      expect(created.body.sessions[0].zoneIds).toBeNull();
      expect(created.body.sessions[1].zoneIds).toEqual([seeded.site.zones[1].id]);
      expect(created.body.sessions[0].supervisorIds).toEqual([]);

      const got = await seeded.operator.get(`/batches/${created.body.id}`);
      expect(got.status).toBe(200);
      expect(got.body.id).toBe(created.body.id);
      const list = await seeded.operator.get('/batches');
      expect(list.body.items.map((b: { id: string }) => b.id)).toContain(created.body.id);
    });

    it('refuses a duplicate code (409), sessions on another unit’s site (400), unknown batches (404)', async () => {
      const body = batchBody(seeded.unit.id, seeded.site.id);
      expect((await seeded.operator.post('/batches', body)).status).toBe(201);
      expectError(await seeded.operator.post('/batches', body), 409, 'conflict', 'code');
      const other = await seedUnit(svc, 'Other');
      expectError(
        await admin.post('/batches', batchBody(seeded.unit.id, other.site.id)),
        400,
        'validation_failed',
        'sessions.0.siteId',
      );
      expectError(await admin.get(`/batches/${UUID_NOT_THERE}`), 404, 'not_found');
    });
  });

  describe('audit', () => {
    it('lists who did what, filters by subject and actor, pages by cursor, and verifies the chain', async () => {
      const all = await admin.get('/audit?limit=1000');
      expect(all.status).toBe(200);
      const actions = all.body.items.map((r: { action: string }) => r.action);
      for (const a of ['auth.login', 'auth.login_failed', 'unit.create', 'site.create', 'camera.create'])
        expect(actions).toContain(a);
      const seqs = all.body.items.map((r: { seq: number }) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(all.body.items[0].hash).toMatch(/^[0-9a-f]{64}$/);

      const bySubject = await admin.get(`/audit?subject=${seeded.unit.id}`);
      expect(bySubject.body.items.length).toBeGreaterThan(0);
      expect(bySubject.body.items.every((r: { subjectId: string }) => r.subjectId === seeded.unit.id)).toBe(
        true,
      );
      const byActor = await admin.get(`/audit?actor=${seeded.operatorName}`);
      expect(byActor.body.items.length).toBeGreaterThan(0);
      expect(
        byActor.body.items.every((r: { actorName: string }) => r.actorName === seeded.operatorName),
      ).toBe(true);

      const first = await admin.get('/audit?limit=2');
      expect(first.body.items).toHaveLength(2);
      const second = await admin.get(`/audit?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.items[0].seq).toBe(first.body.items[1].seq + 1);

      const verify = await admin.post('/audit/verify');
      expect(verify.status).toBe(200);
      expect(verify.body).toEqual({ ok: true, checked: all.body.items.length, problems: [] });
    });

    it('is for admins and auditors only', async () => {
      expectError(await seeded.operator.get('/audit'), 403, 'forbidden');
      expectError(await seeded.operator.post('/audit/verify'), 403, 'forbidden');
      const auditor = await makeUser(svc, 'auditor');
      expect((await auditor.client.get('/audit')).status).toBe(200);
      expect((await auditor.client.post('/audit/verify')).body.ok).toBe(true);
    });
  });

  describe('operations', () => {
    it('answers /healthz and /readyz with database, Redis and storage checks', async () => {
      const health = await fetch(`${svc.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      const ready = await fetch(`${svc.url}/readyz`);
      expect(ready.status).toBe(200);
      const body = await ready.json();
      expect(body.ready).toBe(true);
      expect(body.checks.database).toMatchObject({ ok: true, kind: 'postgres' });
      expect(body.checks.redis.ok).toBe(true);
      expect(body.checks.storage).toMatchObject({ ok: true, kind: 'local' });
    });

    it('exposes Prometheus metrics with HTTP latency by route and process metrics', async () => {
      await admin.get(`/units/${seeded.unit.id}`);
      await admin.get(`/units/${UUID_NOT_THERE}`);
      await admin.get(`/no/such/${Math.random()}`);
      await fetch(`${svc.url}/readyz`);
      const res = await fetch(`${svc.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toMatch(
        /http_request_duration_seconds_bucket\{[^}]*method="GET"[^}]*route="\/api\/v1\/units\/:id"[^}]*status="200"/,
      );
      // Errors keep the route template; unknown paths do not become labels.
      expect(text).toMatch(/route="\/api\/v1\/units\/:id",status="404"/);
      expect(text).toMatch(/route="\/readyz",status="200"/);
      expect(text).toMatch(/route="unmatched",status="404"/);
      expect(text).not.toContain('/no/such/');
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain('nodejs_heap_size_used_bytes');
    });

    it('answers unknown routes and methods with 404 JSON, and bodies over the limit with 413', async () => {
      expectError(await admin.get('/nothing-here'), 404, 'not_found');
      expectError(await admin.request('PATCH', '/units'), 404, 'not_found');
      const missing = await fetch(`${svc.url}/not-api`);
      expect(missing.status).toBe(404);
      expect((await missing.json()).error.code).toBe('not_found');
      const big = JSON.stringify({
        name: 'x'.repeat(svc.config.BODY_LIMIT_BYTES),
        creditCode: 'x',
        kind: 'x',
      });
      expectError(await admin.post('/units', big), 413, 'payload_too_large');
    });
  });
});

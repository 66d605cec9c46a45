import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../config/schema.js';
import { systemActor } from '../../src/access/actor.js';
import { startService, type RunningService } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';
import { ApiClient, makeCreditCode } from '../support/service.js';

/**
 * The registry on the embedded database (PGlite in DATA_DIR): the same migrations and queries as on
 * PostgreSQL, and the data, the secret key and the admin survive a restart.
 */
describe('registry on the embedded database', () => {
  let dataDir: string;
  let config: Config;
  let running: RunningService | null = null;
  let admin: ApiClient;

  const start = async () => {
    running = await startService(config, { log: createLogger(config.LOG_LEVEL) });
    return new ApiClient(running.url!);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ess-embedded-'));
    config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      // No DATABASE_URL: embedded. The schema name only keeps this run's Redis keys apart.
      DATABASE_SCHEMA: `e_${randomBytes(6).toString('hex')}`,
      REDIS_URL: 'redis://127.0.0.1:6379',
      ADMIN_PASSWORD: 'embedded-admin-1',
      ROLES: 'api',
      PROBE_ON_REGISTER: 'false',
      LOG_LEVEL: 'silent',
    });
    admin = await (await start()).login('admin', 'embedded-admin-1');
  });
  afterAll(async () => {
    await running?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  let unitId: string;
  let siteId: string;
  let cameraId: string;

  it('reports the embedded database as ready', async () => {
    const res = await fetch(`${running!.url}/readyz`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.checks.database).toMatchObject({ ok: true, kind: 'embedded' });
  });

  it('registers a unit, a site with zones, a camera and a batch', async () => {
    const unit = await admin.post('/units', {
      name: '嵌入式单位',
      creditCode: makeCreditCode(),
      kind: 'employer',
    });
    expect(unit.status).toBe(201);
    unitId = unit.body.id;
    const site = await admin.post('/sites', {
      unitId,
      name: 'Site',
      zones: [{ name: 'Z1' }, { name: 'Z2' }],
    });
    expect(site.status).toBe(201);
    expect(site.body.zones.map((z: { name: string }) => z.name)).toEqual(['Z1', 'Z2']);
    siteId = site.body.id;
    const cam = await admin.post('/cameras', {
      siteId,
      name: 'Cam',
      rtspUrl: 'rtsp://u:embedded-secret@10.0.2.5/s',
    });
    expect(cam.status).toBe(201);
    cameraId = cam.body.id;
    const zoned = await admin.put(`/cameras/${cameraId}/zones`, { zoneIds: [site.body.zones[1].id] });
    expect(zoned.body.zoneIds).toEqual([site.body.zones[1].id]);
    const start = new Date(Date.now() + 86_400_000);
    const batch = await admin.post('/batches', {
      code: 'EMB-1',
      unitId,
      occupationCode: '4-04-05-03',
      level: 4,
      sessions: [
        { siteId, startsAt: start.toISOString(), endsAt: new Date(start.getTime() + 3600_000).toISOString() },
      ],
    });
    expect(batch.status).toBe(201);
    expect((await admin.post('/batches', { ...batch.body, sessions: undefined })).status).toBe(400);
  });

  it('refuses what Postgres refuses: duplicates (409), bad input (400)', async () => {
    const dup = await admin.post('/sites/' + siteId + '/zones', { name: 'Z1' });
    expect(dup.status).toBe(409);
    const bad = await admin.post('/units', { name: 'X', creditCode: 'not-a-code', kind: 'employer' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('creditCode');
  });

  it('pages lists and reports coverage', async () => {
    for (let i = 0; i < 3; i++) await admin.post('/sites', { unitId, name: `More ${i}`, zones: [] });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await admin.get(`/sites?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.items.map((s: { id: string }) => s.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(4);
    const site = await admin.get(`/sites/${siteId}`);
    expect(site.body.coverage.map((c: { cameraIds: string[] }) => c.cameraIds)).toEqual([[], [cameraId]]);
  });

  it('keeps the audit chain', async () => {
    const verify = await admin.post('/audit/verify');
    expect(verify.body.ok).toBe(true);
    expect(verify.body.checked).toBeGreaterThanOrEqual(7);
  });

  it('keeps everything across a restart on the same DATA_DIR', async () => {
    await running!.close();
    running = null;
    const api = await start();
    // The admin is not re-created: the configured password still works, the old token does not matter.
    const again = await api.login('admin', 'embedded-admin-1');
    expect((await again.get(`/units/${unitId}`)).body.name).toBe('嵌入式单位');
    expect((await again.get(`/cameras/${cameraId}`)).status).toBe(200);
    // The secret key was generated once into DATA_DIR: sealed credentials still open.
    const row = await running!.services.cameras.getRow(systemActor, cameraId);
    expect(running!.services.cameras.credentials(row)).toEqual({
      username: 'u',
      password: 'embedded-secret',
    });
    expect((await again.post('/audit/verify')).body.ok).toBe(true);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, startTestService, type TestService } from '../support/service.js';
import { alerts, now, publish, seedSite, waitFor } from './helpers.js';

/**
 * A camera going offline while the database pool is dry (the capacity bench's 50-camera start held
 * every connection for over 5 s) still opens its alert once a connection is free again.
 */
describe('alert engine with a busy database', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({
      ROLES: 'api,worker',
      DATABASE_POOL_SIZE: '2',
      ALERT_GRACE_MS: '300',
      LEASE_MS: '1000',
    });
  });
  afterAll(async () => svc?.stop());

  it('tries a step again instead of dropping the camera_offline alert', async () => {
    const { admin, unit, site, camera } = await seedSite(svc, 'Busy');
    await sql(svc.schema, `UPDATE cameras SET status = 'offline' WHERE id = $1`, [camera.id]);
    // Both connections busy for longer than a query waits for one (5 s): the engine's step fails once.
    const held = Promise.all([0, 1].map(() => svc.services.db.query('SELECT pg_sleep(6)')));
    await new Promise((r) => setTimeout(r, 200));
    const ref = { cameraId: camera.id, siteId: site.id, unitId: unit.id };
    await publish(svc, 'camera.status', { ...ref, status: 'offline', reason: 'test', at: now() });
    await held;
    const open = await waitFor(
      async () => {
        const list = await alerts(admin, `&siteId=${site.id}&state=open`);
        return list.find((a) => a.rule === 'camera_offline') ?? null;
      },
      15_000,
      'camera_offline alert',
    );
    expect(open.subject).toEqual({ type: 'camera', id: camera.id });
  });
});

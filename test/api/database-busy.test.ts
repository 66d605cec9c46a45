import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUnit, startTestService, type TestService } from '../support/service.js';

/**
 * Under load every connection of the pool can be taken (the capacity bench's 50-camera step ran the
 * API out of them): a request then gets a 503 it can retry, not an internal error.
 */
describe('a saturated database pool', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ DATABASE_POOL_SIZE: '2', ROLES: 'api' });
  });
  afterAll(async () => svc?.stop());

  it('answers 503 database_busy with Retry-After while no connection is free, and 200 after', async () => {
    const { site, operator } = await seedUnit(svc);
    const held = Promise.all([0, 1].map(() => svc.services.db.query('SELECT pg_sleep(7)')));
    await new Promise((r) => setTimeout(r, 300));
    const busy = await operator.get(`/sites/${site.id}`);
    expect(busy.status, JSON.stringify(busy.body)).toBe(503);
    expect(busy.body.error.code).toBe('database_busy');
    expect(busy.body.error.message).toContain('no free connection');
    expect(busy.headers.get('retry-after')).toBe('1');
    await held;
    const again = await operator.get(`/sites/${site.id}`);
    expect(again.status).toBe(200);
  });
});

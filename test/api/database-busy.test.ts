import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUnit, startTestService, type TestService } from '../support/service.js';
import { REGISTRY_ENV } from './fixtures.js';

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

/**
 * Background writers (the segment index's transactions) share the pool through a bound: a burst of them
 * (50 cameras starting together held 18 of 20 connections in open transactions) leaves requests
 * the other half.
 */
describe('a burst of background database writes', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService({ ...REGISTRY_ENV, DATABASE_POOL_SIZE: '4' });
  });
  afterAll(async () => svc?.stop());

  it('holds at most half the pool, and requests are answered meanwhile', async () => {
    const { site, operator } = await seedUnit(svc);
    const cam = await operator.post('/cameras', {
      siteId: site.id,
      name: 'C1',
      rtspUrl: 'rtsp://192.0.2.1/1',
    });
    expect(cam.status, JSON.stringify(cam.body)).toBe(201);
    let running = 0;
    let most = 0;
    const burst = Promise.all(
      Array.from({ length: 12 }, () =>
        svc.services.backgroundDb.transaction(async (tx) => {
          most = Math.max(most, ++running);
          await tx.query('SELECT pg_sleep(0.5)');
          running--;
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      const r = await operator.get(`/sites/${site.id}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    // Playback reads the segment index too, on the request pool: no footage yet, and answered at once.
    const span = `from=${new Date(Date.now() - 60_000).toISOString()}&to=${new Date().toISOString()}`;
    const playlist = await operator.get(`/cameras/${cam.body.id}/playback.m3u8?${span}`);
    expect(playlist.status, JSON.stringify(playlist.body)).toBe(404);
    // Four requests while the burst needs 3 s: none waited for it.
    expect(Date.now() - started).toBeLessThan(2500);
    await burst;
    expect(most).toBe(2);
  });
});

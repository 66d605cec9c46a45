import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, makeUser, REGISTRY_ENV } from '../api/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';

const PASSWORD = 'user-password-1';

describe('login limits', () => {
  let svc: TestService;
  /** The same service shape without a trusted proxy. */
  let direct: TestService;

  beforeAll(async () => {
    svc = await startTestService({ ...REGISTRY_ENV, TRUSTED_PROXIES: '127.0.0.1' });
    direct = await startTestService(REGISTRY_ENV);
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
    await direct?.stop();
  });

  const loginAs = (s: TestService, username: string) => (address: string, password: string) =>
    s.api.request('POST', '/auth/login', { username, password }, { 'x-forwarded-for': address });

  it('30 wrong passwords from 30 addresses do not lock the owner out of its known address', async () => {
    const { username } = await makeUser(svc, 'supervisor');
    const from = loginAs(svc, username);
    expect((await from('10.9.0.1', PASSWORD)).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 1; i <= 30; i++) statuses.push((await from(`198.51.100.${i}`, 'wrong-password')).status);
    // The first 4 × LOGIN_MAX_FAILURES are checked; after that strangers wait.
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    expect((await from('10.9.0.1', PASSWORD)).status).toBe(200);
    // An address that never logged in to the account waits, with Retry-After.
    const stranger = await from('198.51.100.200', PASSWORD);
    expectError(stranger, 429, 'too_many_requests');
    expect(Number(stranger.headers.get('retry-after'))).toBeGreaterThan(0);
  }, 60_000);

  it('the delay for strangers grows with each failure after the threshold, and is capped', async () => {
    const { username } = await makeUser(svc, 'auditor');
    const from = loginAs(svc, username);
    for (let i = 1; i <= 20; i++) expectError(await from(`203.0.113.${i}`, 'wrong-password'), 401);
    const waits: number[] = [];
    for (let round = 0; round < 3; round++) {
      const refused = await from('203.0.113.100', 'wrong-password');
      expectError(refused, 429, 'too_many_requests');
      const wait = Number(refused.headers.get('retry-after'));
      waits.push(wait);
      await new Promise((r) => setTimeout(r, wait * 1000 + 50));
      expectError(await from(`203.0.113.${101 + round}`, 'wrong-password'), 401);
    }
    expect(waits).toEqual([1, 2, 4]);
  }, 30_000);

  it('blocks one address guessing one account after LOGIN_MAX_FAILURES, and no one else', async () => {
    const { username } = await makeUser(svc, 'auditor');
    const from = loginAs(svc, username);
    for (let i = 0; i < 5; i++) expectError(await from('10.7.0.1', 'wrong-password'), 401);
    const blocked = await from('10.7.0.1', PASSWORD);
    expectError(blocked, 429, 'too_many_requests');
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(900);
    expect((await from('10.7.0.2', PASSWORD)).status).toBe(200);
  });

  it('ignores X-Forwarded-For unless it comes from a trusted proxy', async () => {
    const { username } = await makeUser(direct, 'auditor');
    const from = loginAs(direct, username);
    // Five different claimed addresses are one real address: the pair limit applies.
    for (let i = 0; i < 5; i++) expectError(await from(`10.8.0.${i}`, 'wrong-password'), 401);
    expectError(await from('10.8.0.99', PASSWORD), 429, 'too_many_requests');
  });
});

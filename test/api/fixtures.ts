import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { Role } from '../../src/access/actor.js';
import { DEFAULT_CAMERA_NETWORKS } from '../../src/ingest/camera-address.js';
import { sql, type ApiClient, type ApiResponse, type TestService } from '../support/service.js';

/** Asserts the API's error shape: status, code, and (when given) the field named in details. */
export function expectError(res: ApiResponse, status: number, code?: string, field?: string): void {
  const context = JSON.stringify(res.body);
  expect(res.status, context).toBe(status);
  expect(res.headers.get('content-type') ?? '', context).toContain('application/json');
  expect(typeof res.body?.error?.message, context).toBe('string');
  if (code) expect(res.body.error.code, context).toBe(code);
  if (field !== undefined) {
    const paths = (res.body.error.details ?? []).map((d: { path: string }) => d.path);
    expect(paths, context).toContain(field);
  }
}

/** A user of the given role, logged in. */
export async function makeUser(
  svc: TestService,
  role: Role,
  unitId?: string,
): Promise<{ id: string; username: string; client: ApiClient }> {
  const admin = await svc.admin();
  const username = `${role}_${randomBytes(4).toString('hex')}`;
  const created = await admin.post('/users', {
    username,
    password: 'user-password-1',
    role,
    ...(unitId ? { unitId } : {}),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { id: created.body.id, username, client: await svc.api.login(username, 'user-password-1') };
}

/** Session times an hour apart, starting `fromNowHours` ahead. */
export function sessionTimes(fromNowHours = 24): { startsAt: string; endsAt: string } {
  const start = Date.now() + fromNowHours * 3600_000;
  return {
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(start + 3600_000).toISOString(),
  };
}

let batchCounter = 0;
/** A valid batch body for one session on the given site. */
export function batchBody(unitId: string, siteId: string, extra: Record<string, unknown> = {}) {
  return {
    code: `PJ-${Date.now()}-${++batchCounter}`,
    unitId,
    occupationCode: '6-18-01-01',
    level: 3,
    sessions: [{ siteId, ...sessionTimes() }],
    ...extra,
  };
}

/** Assigns a supervisor to every session of a batch directly, so tests need no dispatch draw. */
export async function assignSupervisor(svc: TestService, batchId: string, userId: string): Promise<void> {
  await sql(
    svc.schema,
    'INSERT INTO session_supervisors (session_id, user_id) SELECT id, $2 FROM batch_sessions WHERE batch_id = $1',
    [batchId, userId],
  );
}

const COUNTED = [
  'units',
  'users',
  'auth_tokens',
  'sites',
  'zones',
  'cameras',
  'camera_zones',
  'batches',
  'batch_sessions',
  'audit_log',
];

/** Row counts of the registry tables, to prove a refused request stored nothing. */
export async function registryCounts(svc: TestService): Promise<Record<string, number>> {
  const [row] = await sql<Record<string, number>>(
    svc.schema,
    `SELECT ${COUNTED.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`,
  );
  return row!;
}

/**
 * These suites test the registry API: only the api role runs (no camera pulls changing statuses or
 * writing audit rows underneath), and cameras at documentation addresses (192.0.2.0/24, allowed as a
 * camera network here) are stored unprobed.
 */
export const REGISTRY_ENV = {
  ROLES: 'api',
  PROBE_ON_REGISTER: 'false',
  CAMERA_NETWORKS: `${DEFAULT_CAMERA_NETWORKS.join(',')},192.0.2.0/24`,
};

export const UUID_NOT_THERE = '00000000-0000-4000-8000-000000000000';

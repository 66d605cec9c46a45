import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type Config } from '../../config/schema.js';
import { startService, type RunningService } from '../../src/app.js';
import type { Clock } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const ADMIN_PASSWORD = 'admin-password-1';

export interface TestService extends RunningService {
  url: string;
  config: Config;
  schema: string;
  api: ApiClient;
  /** Logs in as admin once and returns a client carrying its token. */
  admin(): Promise<ApiClient>;
  stop(): Promise<void>;
}

/**
 * The whole service on real Postgres (a private schema per test file, dropped afterwards), real Redis
 * and a temporary DATA_DIR, listening on a free port.
 */
export async function startTestService(
  env: Record<string, string> = {},
  opts: { clock?: Clock } = {},
): Promise<TestService> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ess-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL: 'redis://127.0.0.1:6379',
    ADMIN_PASSWORD,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Registering a lab camera reads it over ONVIF and ffprobe under deadlines. Registrations failed
    // with 422 in full runs: mostly a fresh lab server leaving its first client unanswered (the lab
    // now reads each stream once before handing it out), and the deadlines are generous for two busy
    // cores. Tests of the deadlines themselves set their own.
    ONVIF_TIMEOUT_MS: '15000',
    PROBE_TIMEOUT_MS: '20000',
    ...env,
  });
  const running = await startService(config, { log: createLogger(config.LOG_LEVEL), clock: opts.clock });
  const url = running.url!;
  let adminClient: ApiClient | null = null;
  const stop = async () => {
    await running.close();
    await dropRedisKeys(running.services.keys.key('*'));
    await dropSchema(schema);
    await rm(dataDir, { recursive: true, force: true });
  };
  return {
    ...running,
    url,
    config,
    schema,
    api: new ApiClient(url),
    admin: async () => (adminClient ??= await new ApiClient(url).login('admin', ADMIN_PASSWORD)),
    stop,
  };
}

/** Every Redis key of a test deployment, so test runs do not pile up keys in the shared Redis. */
export async function dropRedisKeys(pattern: string): Promise<void> {
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for await (const keys of redis.scanStream({ match: pattern, count: 500 }) as AsyncIterable<string[]>)
      if (keys.length) await redis.unlink(...keys);
  } finally {
    redis.disconnect();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Direct SQL on a test service's schema, for checks and tampering the API does not allow. */
export async function sql<T = Record<string, unknown>>(
  schema: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client for /api/v1 that keeps a bearer token. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string | null = null,
  ) {}

  async login(username: string, password: string): Promise<ApiClient> {
    const r = await this.post('/auth/login', { username, password });
    if (r.status !== 200) throw new Error(`login ${username} failed: ${r.status} ${JSON.stringify(r.body)}`);
    return new ApiClient(this.baseUrl, r.body.token);
  }

  async request<T = any>(
    method: string,
    p: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    let payload: BodyInit | undefined;
    if (body instanceof Uint8Array || typeof body === 'string') {
      payload = body as BodyInit;
      h['content-type'] ??= 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.baseUrl}/api/v1${p}`, { method, headers: h, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = any>(p: string) {
    return this.request<T>('GET', p);
  }
  post<T = any>(p: string, body?: unknown) {
    return this.request<T>('POST', p, body ?? {});
  }
  put<T = any>(p: string, body?: unknown) {
    return this.request<T>('PUT', p, body);
  }
  delete<T = any>(p: string) {
    return this.request<T>('DELETE', p);
  }
}

const CREDIT_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** A valid unified social credit code with a random body. */
export function makeCreditCode(): string {
  let body = '91';
  for (let i = 0; i < 15; i++) body += CREDIT_CHARS[Math.floor(Math.random() * 31)];
  const sum = [...body].reduce((acc, ch, i) => acc + CREDIT_CHARS.indexOf(ch) * WEIGHTS[i]!, 0);
  return body + CREDIT_CHARS[(31 - (sum % 31)) % 31];
}

/** A unit with one site of two zones, an operator, and logged-in clients for it. */
export async function seedUnit(svc: TestService, name = 'Unit') {
  const admin = await svc.admin();
  const unit = (
    await admin.post('/units', {
      name,
      creditCode: makeCreditCode(),
      kind: 'third_party',
      region: '江苏 南京',
    })
  ).body;
  const site = (
    await admin.post('/sites', {
      unitId: unit.id,
      name: `${name} site`,
      zones: [{ name: 'Room A' }, { name: 'Room B' }],
    })
  ).body;
  const username = `op_${randomBytes(4).toString('hex')}`;
  await admin.post('/users', { username, password: 'operator-pass', role: 'unit_operator', unitId: unit.id });
  const operator = await svc.api.login(username, 'operator-pass');
  return { unit, site, operator, operatorName: username };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchBody, makeUser, REGISTRY_ENV } from '../api/fixtures.js';
import { seedUnit, startTestService, type TestService } from '../support/service.js';

/**
 * Generated requests over every operation of the OpenAPI document: random and boundary values for
 * path, query and body, as admin, operator, auditor or nobody. Not one may be a 5xx. The seed is
 * fixed so a failure replays; FUZZ_SEED and FUZZ_REQUESTS explore further.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 600);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Schema {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: Json[];
  const?: Json;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}
interface Operation {
  method: string;
  path: string;
  parameters?: { name: string; in: 'path' | 'query'; required?: boolean; schema: Schema }[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const NASTY_STRINGS = [
  '',
  ' ',
  'a'.repeat(10_000),
  '\u0000',
  'x\r\nSET fuzz 1\r\n',
  '\ud800',
  '%',
  '%E0%A4%A',
  '%ZZ',
  '../../etc/passwd',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '😀'.repeat(300),
  '00000000-0000-4000-8000-000000000000',
  'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF',
  '-1',
  '1e309',
  'NaN',
  'true',
  'null',
  '2030-02-30T25:61:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59+14:00',
  'file:///etc/passwd',
  'rtsp://127.0.0.1:9/x',
  'rtsp://127.0.0.1:6379/x',
  'rtsp://u:p@127.0.0.1:9/%0D%0A',
  'http://127.0.0.1:9/',
];
const NASTY_NUMBERS = [0, -1, 1, 2 ** 31, -(2 ** 53), Number.MAX_SAFE_INTEGER, 0.5, 1e308];

/** A value for `schema`: usually one that fits, sometimes a boundary or plainly wrong one. */
function value(rng: Rng, schema: Schema | undefined, ids: string[], depth = 0): Json {
  if (!schema || depth > 6) return null;
  if (rng.chance(0.12)) return wrong(rng);
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return rng.chance(0.9) ? rng.pick(schema.enum) : 'not-in-enum';
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return value(rng, rng.pick(alternatives), ids, depth + 1);
  if (schema.allOf) return value(rng, schema.allOf[0], ids, depth + 1);
  const type = Array.isArray(schema.type) ? rng.pick(schema.type) : schema.type;
  switch (type) {
    case 'string':
      return str(rng, schema, ids);
    case 'integer':
    case 'number': {
      const lo = schema.minimum ?? -1000;
      const hi = schema.maximum ?? 1000;
      const edges = [lo, hi, lo - 1, hi + 1, Math.floor((lo + hi) / 2)];
      const n = rng.chance(0.6) ? rng.pick(edges) : rng.pick(NASTY_NUMBERS);
      return type === 'integer' || rng.chance(0.7) ? Math.trunc(n) : n + 0.25;
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    case 'array': {
      const n = rng.chance(0.1) ? (schema.maxItems ?? 50) + 1 : rng.int(4);
      return Array.from({ length: Math.min(n, 600) }, () => value(rng, schema.items, ids, depth + 1));
    }
    case 'object':
    default:
      return object(rng, schema, ids, depth);
  }
}

function object(rng: Rng, schema: Schema, ids: string[], depth: number): Json {
  const out: Record<string, Json> = {};
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    const required = schema.required?.includes(k);
    if (required ? rng.chance(0.93) : rng.chance(0.5)) out[k] = value(rng, s, ids, depth + 1);
  }
  if (rng.chance(0.08)) out[rng.pick(['__proto__', 'constructor', 'extra', 'isAdmin'])] = wrong(rng);
  return out;
}

function str(rng: Rng, schema: Schema, ids: string[]): string {
  const fmt = schema.format;
  if (rng.chance(0.25)) return rng.pick(NASTY_STRINGS);
  if (fmt === 'uuid' || schema.pattern?.includes('[0-9a-f]{8}')) {
    const id = rng.pick(ids);
    return rng.chance(0.2) ? id.toUpperCase() : id;
  }
  if (fmt === 'date-time') {
    const t = Date.now() + (rng.int(200) - 100) * 3600_000;
    return rng.chance(0.5) ? new Date(t).toISOString() : new Date(t).toISOString().replace('Z', '+08:00');
  }
  const len = Math.min(Math.max(schema.minLength ?? 1, rng.int(12) + 1), schema.maxLength ?? 64);
  if (rng.chance(0.1)) return 'x'.repeat((schema.maxLength ?? 64) + 1);
  return Array.from({ length: len }, () => rng.pick([...'abcXYZ019-_. 考场'])).join('');
}

function wrong(rng: Rng): Json {
  return rng.pick<Json>([
    null,
    true,
    -1,
    1e308,
    rng.pick(NASTY_STRINGS),
    [],
    [null],
    {},
    { a: { b: { c: [1, 'x', null] } } },
  ]);
}

/** Percent-encoded; a lone surrogate becomes the bytes it would be, which are not UTF-8. */
function pathSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

/** WS-Discovery multicasts to the network: only requests its schema refuses are sent to it. */
const REFUSED_ONLY = new Set(['post /api/v1/cameras/discover']);
const DISCOVER_BODIES: Json[] = [
  { timeoutMs: 1 },
  { timeoutMs: 10_000_000 },
  { timeoutMs: 'soon' },
  { timeoutMs: 500, extra: 1 },
  [],
];

describe('fuzzing every route of the OpenAPI document', () => {
  let svc: TestService;
  const tokens: Record<string, string | null> = { nobody: null };
  const ids: string[] = ['00000000-0000-4000-8000-000000000000'];

  beforeAll(async () => {
    svc = await startTestService({
      ...REGISTRY_ENV,
      // Loopback only, so nothing generated can reach beyond this machine; ONVIF fails fast.
      CAMERA_NETWORKS: '127.0.0.0/8',
      ONVIF_TIMEOUT_MS: '300',
      PROBE_TIMEOUT_MS: '1000',
    });
    const admin = await svc.admin();
    const { unit, site, operator } = await seedUnit(svc, 'Fuzz');
    const cam = await operator.post('/cameras', {
      siteId: site.id,
      name: 'C',
      rtspUrl: 'rtsp://127.0.0.1:9/c',
    });
    const batch = await admin.post('/batches', batchBody(unit.id, site.id));
    const auditor = await makeUser(svc, 'auditor');
    tokens.admin = admin.token;
    tokens.operator = operator.token;
    tokens.auditor = auditor.client.token;
    ids.push(unit.id, site.id, site.zones[0].id, cam.body.id, batch.body.id, batch.body.sessions[0].id);
  }, 60_000);
  afterAll(async () => svc?.stop());

  it(`sends ${REQUESTS} requests with seed ${SEED} and gets no 5xx`, async () => {
    const doc = (await (await fetch(`${svc.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ ...op, method, path })),
    );
    expect(operations.length).toBeGreaterThan(30);
    const rng = prng(SEED);
    const failures: string[] = [];
    const hit = new Map<string, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const op = operations[i % operations.length]!;
      const key = `${op.method} ${op.path}`;
      let url = op.path;
      const query = new URLSearchParams();
      for (const p of op.parameters ?? []) {
        const v = value(rng, p.schema, ids);
        const text = typeof v === 'string' ? v : JSON.stringify(v);
        if (p.in === 'path') url = url.replace(`{${p.name}}`, pathSegment(text));
        else if (p.required || rng.chance(0.6)) {
          query.append(p.name, text);
          if (rng.chance(0.05)) query.append(p.name, text);
        }
      }
      if (rng.chance(0.05)) query.append('unknown', '1');
      // A raw percent sequence now and then, as a hand-typed URL would carry it.
      if (rng.chance(0.05)) url = url.replace(/\/[^/]*$/, '/%E0%A4%A');
      const schema = op.requestBody?.content['application/json'].schema;
      let body: string | undefined;
      if (REFUSED_ONLY.has(key)) body = JSON.stringify(rng.pick(DISCOVER_BODIES));
      else if (schema)
        body = rng.chance(0.05)
          ? rng.pick(['{', '[]', '"x"', 'null', '{"a":'])
          : JSON.stringify(value(rng, schema, ids));
      const headers: Record<string, string> = {};
      const who = rng.pick(['admin', 'admin', 'operator', 'auditor', 'nobody']);
      if (tokens[who]) headers.authorization = `Bearer ${tokens[who]}`;
      if (body !== undefined) headers['content-type'] = rng.chance(0.05) ? 'text/plain' : 'application/json';
      if (body !== undefined && rng.chance(0.03)) headers['content-encoding'] = 'gzip';
      const q = query.toString();
      const res = await fetch(`${svc.url}${url}${q ? `?${q}` : ''}`, {
        method: op.method.toUpperCase(),
        headers,
        body: op.method === 'get' ? undefined : body,
      });
      const text = await res.text();
      hit.set(key, (hit.get(key) ?? 0) + 1);
      if (res.status >= 500 && !(op.path.endsWith('/readyz') && res.status === 503))
        failures.push(
          `${res.status} ${op.method.toUpperCase()} ${url}?${q} as ${who} body=${body?.slice(0, 300)} → ${text.slice(0, 300)}`,
        );
    }
    expect(hit.size).toBe(operations.length);
    expect(failures).toEqual([]);
  }, 180_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.js';
import { REGISTRY_ENV } from './fixtures.js';

type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, any> }> };
  responses: Record<string, unknown>;
};

/** Endpoints the document must always list; every other route must be in it too. */
const FOUNDATION: [string, string][] = [
  ['post', '/api/v1/auth/login'],
  ['post', '/api/v1/users'],
  ['post', '/api/v1/units'],
  ['get', '/api/v1/units'],
  ['get', '/api/v1/units/{id}'],
  ['post', '/api/v1/sites'],
  ['get', '/api/v1/sites'],
  ['get', '/api/v1/sites/{id}'],
  ['post', '/api/v1/sites/{id}/zones'],
  ['post', '/api/v1/cameras'],
  ['get', '/api/v1/cameras/{id}'],
  ['put', '/api/v1/cameras/{id}/zones'],
  ['delete', '/api/v1/cameras/{id}'],
  ['post', '/api/v1/batches'],
  ['get', '/api/v1/batches'],
  ['get', '/api/v1/batches/{id}'],
  ['get', '/api/v1/audit'],
  ['post', '/api/v1/audit/verify'],
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
  ['get', '/api/v1/openapi.json'],
];

/** Request bodies and the fields they require, as the validation schemas define them. */
const BODIES: Record<string, string[]> = {
  'post /api/v1/auth/login': ['username', 'password'],
  'post /api/v1/users': ['username', 'password', 'role'],
  'post /api/v1/units': ['name', 'creditCode', 'kind'],
  'post /api/v1/sites': ['unitId', 'name'],
  'post /api/v1/sites/{id}/zones': ['name'],
  'post /api/v1/cameras': ['siteId', 'name'],
  'put /api/v1/cameras/{id}/zones': ['zoneIds'],
  'post /api/v1/batches': ['code', 'unitId', 'occupationCode', 'level', 'sessions'],
};

describe('GET /api/v1/openapi.json', () => {
  let svc: TestService;
  let doc: any;
  beforeAll(async () => {
    svc = await startTestService(REGISTRY_ENV);
    const res = await fetch(`${svc.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    doc = await res.json();
  });
  afterAll(async () => svc?.stop());

  const operations = (): [string, string, Operation][] =>
    Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => [m, p, op] as [string, string, Operation]),
    );

  it('is an OpenAPI 3.1 document with bearer security, needing no token to fetch', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.info.version).toEqual(expect.any(String));
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it('lists every route, each with a unique operationId, a summary, a tag and responses', () => {
    for (const [method, p] of FOUNDATION) expect(doc.paths[p]?.[method], `${method} ${p}`).toBeDefined();
    const ids = new Set<string>();
    for (const [method, p, op] of operations()) {
      expect(['get', 'post', 'put', 'delete', 'patch']).toContain(method);
      expect(p.startsWith('/')).toBe(true);
      expect(p).not.toMatch(/:\w/);
      expect(op.operationId, `${method} ${p}`).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(ids.has(op.operationId!), `duplicate ${op.operationId}`).toBe(false);
      ids.add(op.operationId!);
      expect(op.summary).toEqual(expect.any(String));
      expect(op.tags?.length).toBeGreaterThan(0);
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
    }
  });

  it('declares every path parameter, with the id pattern', () => {
    for (const [method, p, op] of operations()) {
      for (const [, name] of p.matchAll(/\{(\w+)\}/g)) {
        const param = op.parameters?.find((x) => x.in === 'path' && x.name === name);
        expect(param, `${method} ${p} {${name}}`).toMatchObject({ required: true });
        if (name === 'id') expect(param!.schema.pattern).toEqual(expect.any(String));
      }
    }
  });

  it('describes each request body with the schema that validates it', () => {
    for (const [key, required] of Object.entries(BODIES)) {
      const [method, p] = key.split(' ') as [string, string];
      const op = doc.paths[p][method] as Operation;
      const schema = op.requestBody?.content['application/json']?.schema;
      expect(schema, key).toMatchObject({ type: 'object', additionalProperties: false });
      expect(schema!.$schema).toBeUndefined();
      for (const field of required) {
        expect(schema!.required, key).toContain(field);
        expect(schema!.properties[field], `${key} ${field}`).toBeDefined();
      }
    }
    const units = doc.paths['/api/v1/units'].post.requestBody.content['application/json'].schema;
    expect(units.properties.kind.enum).toEqual(['employer', 'third_party']);
    expect(units.properties.creditCode.pattern).toEqual(expect.any(String));
    const batches = doc.paths['/api/v1/batches'].post.requestBody.content['application/json'].schema;
    expect(batches.properties.level).toMatchObject({ type: 'integer', minimum: 1, maximum: 5 });
    expect(batches.properties.sessions.items.properties.startsAt.format).toBe('date-time');
  });

  it('describes list queries, public routes and the error shape', () => {
    const listUnits = doc.paths['/api/v1/units'].get as Operation;
    expect(listUnits.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'query:cursor',
      'query:limit',
    ]);
    expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
    expect(doc.paths['/api/v1/units'].post.security).toBeUndefined();
    const error = doc.paths['/api/v1/units'].post.responses.default.content['application/json'].schema;
    expect(error.properties.error.required).toEqual(['code', 'message']);
    const created = doc.paths['/api/v1/units'].post.responses['201'].content['application/json'].schema;
    expect(created.properties.creditCode).toBeDefined();
  });

  it('has no dangling $ref', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]*"/g) ?? [];
    for (const ref of refs) {
      const target = JSON.parse(`{${ref}}`).$ref as string;
      expect(target.startsWith('#/')).toBe(true);
      const node = target
        .slice(2)
        .split('/')
        .reduce<any>((n, k) => n?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
      expect(node, target).toBeDefined();
    }
  });
});

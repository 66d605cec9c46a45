import { z, type ZodType } from 'zod';
import type { Route } from './route.js';

const schema = (s: ZodType, io: 'input' | 'output') => {
  // Embedded schemas inherit the document's dialect (OpenAPI 3.1 = JSON Schema 2020-12).
  const { $schema: _dialect, ...json } = z.toJSONSchema(s, { io, unrepresentable: 'any' });
  return json;
};

/** getUnitsById, postSitesByIdZones, ...: stable names for client generators. */
const operationId = (method: string, path: string) =>
  method +
  path
    .split('/')
    .filter(Boolean)
    .map((p) => (p.startsWith(':') ? `By${p[1]!.toUpperCase()}${p.slice(2)}` : p))
    .map((p) => p.replace(/(^|[-_.])(\w)/g, (_m, _sep, c: string) => c.toUpperCase()))
    .join('');

function parameters(s: ZodType | undefined, where: 'query' | 'path') {
  if (!s) return [];
  const json = schema(s, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, sch]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: sch,
  }));
}

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
        },
      },
      required: ['code', 'message'],
    },
  },
};

const plain = (summary: string, id: string, type: string) => ({
  get: {
    operationId: id,
    summary,
    tags: ['operations'],
    security: [],
    responses: { '200': { description: 'success', content: { [type]: {} } } },
  },
});

/** The probes and metrics that app.ts mounts outside the route table, so the document lists them too. */
function operationPaths(basePath: string): Record<string, Record<string, unknown>> {
  const readiness = {
    get: {
      ...plain('Readiness: database, Redis and storage reachable', 'getReadyz', 'application/json').get,
      responses: {
        '200': { description: 'ready', content: { 'application/json': {} } },
        '503': { description: 'a dependency is down', content: { 'application/json': {} } },
      },
    },
  };
  return {
    '/healthz': plain('Liveness: the process is up', 'getHealthz', 'application/json'),
    '/readyz': readiness,
    [`${basePath}/readyz`]: {
      get: { ...readiness.get, operationId: 'getApiReadyz' },
    },
    '/metrics': plain('Prometheus metrics', 'getMetrics', 'text/plain'),
    [`${basePath}/openapi.json`]: plain('This document', 'getOpenapi', 'application/json'),
  };
}

/** The OpenAPI 3.1 document, built from the same route schemas that validate requests. */
export function openApiDocument(routes: Route[], basePath: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = basePath + r.path.replace(/:(\w+)/g, '{$1}');
    const ok = String(r.status ?? 200);
    paths[p] ??= {};
    paths[p][r.method] = {
      operationId: operationId(r.method, r.path),
      summary: r.summary,
      tags: [r.tag],
      ...(r.roles === 'public'
        ? { security: [] }
        : { description: `Roles: ${r.roles === 'any' ? 'any signed-in user' : r.roles.join(', ')}` }),
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schema(r.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [ok]: {
          description: 'success',
          ...(r.produces
            ? { content: { [r.produces]: {} } }
            : r.response
              ? { content: { 'application/json': { schema: schema(r.response, 'output') } } }
              : {}),
        },
        default: { description: 'error', content: { 'application/json': { schema: errorSchema } } },
      },
    };
  }
  Object.assign(paths, operationPaths(basePath));
  return {
    openapi: '3.1.0',
    info: { title: 'Exam-site video supervision API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

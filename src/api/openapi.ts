import { z, type ZodType } from 'zod';
import type { Route } from './route.js';

const schema = (s: ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any' });

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

/** The OpenAPI 3.1 document, built from the same route schemas that validate requests. */
export function openApiDocument(routes: Route[], basePath: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = basePath + r.path.replace(/:(\w+)/g, '{$1}');
    const ok = String(r.status ?? 200);
    paths[p] ??= {};
    paths[p][r.method] = {
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
  return {
    openapi: '3.1.0',
    info: { title: 'Exam-site video supervision API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}

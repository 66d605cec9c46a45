import express, { type NextFunction, type Request, type Response } from 'express';
import type { ZodError, ZodType } from 'zod';
import type { Actor } from '../access/actor.js';
import type { UserService } from '../access/users.js';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  TooManyRequestsError,
  UnavailableError,
  UnauthorizedError,
  ValidationError,
  type ErrorDetail,
} from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { Route } from './route.js';

export const API_BASE = '/api/v1';

function zodDetails(err: ZodError): ErrorDetail[] {
  return err.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ path: [...base, k].join('.'), message: 'is not a known field' }));
    }
    return [{ path: base.join('.') || '(body)', message: issue.message }];
  });
}

function parse<T>(schema: ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const details = zodDetails(result.error);
    throw new ValidationError(
      `invalid ${where}: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
      details,
    );
  }
  return result.data;
}

const bearer = (req: Request): string | null => {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m ? m[1]! : null;
};

/** Maps parse failures of the JSON body parser to the API's error shape. */
function bodyParserError(err: { type?: string; status?: number; limit?: number }): DomainError | null {
  const body = (status: number, code: string, message: string) =>
    new DomainError(status, code, message, [{ path: '(body)', message }]);
  switch (err.type) {
    case 'entity.too.large':
      return body(413, 'payload_too_large', `request body is larger than ${err.limit} bytes`);
    case 'entity.parse.failed':
      return body(400, 'malformed_json', 'request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return body(415, 'unsupported_encoding', 'request body must be UTF-8 JSON');
    case 'invalid.utf8':
      return body(400, 'invalid_encoding', 'request body is not valid UTF-8');
    default:
      return null;
  }
}

/**
 * Other 4xx errors of express and its body parser (a gzip body that is not gzip, a path that is not
 * valid percent-encoding): the API's shape, without their internal wording.
 */
function clientError(err: { status?: unknown; statusCode?: unknown }): DomainError | null {
  const status = err?.status ?? err?.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return null;
  if (err instanceof URIError)
    return new DomainError(400, 'malformed_path', 'the request path is not valid percent-encoding', [
      { path: '(path)', message: 'is not valid percent-encoding' },
    ]);
  return new DomainError(status, 'bad_request', 'the request could not be read', [
    { path: '(body)', message: 'could not be read' },
  ]);
}

/** Two requests racing past a service's own duplicate check meet the database's unique index. */
function uniqueViolation(err: { code?: string }): DomainError | null {
  return err?.code === '23505' ? new ConflictError('an object with these values already exists') : null;
}

export interface HttpDeps {
  routes: Route[];
  users: UserService;
  metrics: Metrics;
  log: Logger;
  bodyLimit: number;
  /** Proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES); anyone else's is ignored. */
  trustedProxies: string[];
  /** Extra handlers mounted before the API (static web UI, media proxies). */
  mount?: (app: express.Express) => void;
}

export function createHttpApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Text a client stored (names with markup in them) must never be sniffed into HTML by a browser.
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  // Client addresses key the login limits: a forwarded one is believed only from a configured proxy.
  app.set('trust proxy', deps.trustedProxies.length > 0 ? deps.trustedProxies : false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const end = deps.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      // Route templates only, so clients cannot grow the label set; a route mounted on several
      // paths reports the one that was hit.
      const routePath = req.route?.path as string | string[] | undefined;
      const route =
        (res.locals.route as string | undefined) ??
        (typeof routePath === 'string' ? routePath : Array.isArray(routePath) ? req.path : 'unmatched');
      const seconds = end({
        method: req.method,
        route,
        status: String(res.statusCode),
      });
      // The path only: query strings may carry signed tokens, headers carry bearer tokens.
      deps.log.debug(
        {
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
        },
        'request',
      );
    });
    next();
  });

  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.use(
    express.json({
      limit: deps.bodyLimit,
      strict: false,
      verify: (_req, _res, buf) => {
        try {
          utf8.decode(buf);
        } catch {
          throw Object.assign(new Error('invalid utf-8'), { type: 'invalid.utf8', status: 400 });
        }
      },
    }),
  );

  deps.mount?.(app);

  const router = express.Router();
  for (const r of deps.routes) {
    router[r.method](r.path, async (req: Request, res: Response) => {
      // Set here: the router's base path is gone by the time an error response finishes.
      res.locals.route = `${API_BASE}${r.path}`;
      let actor: Actor | null = null;
      if (r.roles !== 'public') {
        const token = bearer(req);
        if (!token) throw new UnauthorizedError('missing bearer token');
        actor = await deps.users.authenticate(token);
        if (r.roles !== 'any' && !r.roles.includes(actor.role))
          throw new ForbiddenError(`role '${actor.role}' may not ${r.summary.toLowerCase()}`);
      }
      if (
        r.body &&
        req.body !== undefined &&
        (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body))
      ) {
        throw new ValidationError('request body must be a JSON object', [
          { path: '(body)', message: 'must be a JSON object' },
        ]);
      }
      const params = parse(r.params, req.params, 'path');
      const query = parse(r.query, req.query, 'query');
      const body = parse(r.body, req.body, 'body');
      const result = await r.handler({ body, query, params, actor: actor as Actor, req, res });
      if (res.headersSent) return;
      if (result === undefined) res.status(r.status ?? 204).end();
      else res.status(r.status ?? 200).json(result);
    });
  }
  app.use(API_BASE, router);

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route ${req.method} ${req.path}` } });
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const domain =
      err instanceof DomainError
        ? err
        : (bodyParserError(err as { type?: string }) ??
          uniqueViolation(err as { code?: string }) ??
          clientError(err as { status?: unknown }));
    if (domain) {
      const retryAfter =
        domain instanceof TooManyRequestsError || domain instanceof UnavailableError
          ? domain.retryAfterSeconds
          : undefined;
      if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
      if (!res.headersSent) {
        res.status(domain.status).json({
          error: {
            code: domain.code,
            message: domain.message,
            ...(domain.details ? { details: domain.details } : {}),
          },
        });
      }
      return;
    }
    deps.log.error({ err, method: req.method, path: req.path }, 'request failed');
    if (!res.headersSent) res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
    else res.destroy();
  });
  return app;
}

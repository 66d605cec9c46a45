import type { Request, Response } from 'express';
import { z, type ZodType } from 'zod';
import type { Actor, Role } from '../access/actor.js';
import { id } from '../platform/validation.js';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  /** Null only on public routes. */
  actor: Actor;
  req: Request;
  res: Response;
}

/**
 * One endpoint: its schemas validate the request and describe it in the OpenAPI document, so the
 * two cannot drift apart. The handler returns the JSON body, or undefined when it wrote the response.
 */
export interface Route<B = unknown, Q = unknown, P = unknown> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  /** Roles allowed; 'public' needs no token, 'any' any signed-in user. */
  roles: Role[] | 'public' | 'any';
  body?: ZodType<B>;
  query?: ZodType<Q>;
  params?: ZodType<P>;
  response?: ZodType;
  /** Media type of a non-JSON response (video/mp4, image/jpeg, ...). */
  produces?: string;
  status?: number;
  handler(ctx: RouteContext<B, Q, P>): Promise<unknown>;
}

export function route<B = undefined, Q = undefined, P = undefined>(r: Route<B, Q, P>): Route {
  return r as unknown as Route;
}

export const idParams = z.strictObject({ id });

export const listOf = <T extends ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

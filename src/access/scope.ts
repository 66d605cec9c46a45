import { ForbiddenError } from '../platform/errors.js';
import type { Actor, Role } from './actor.js';

/**
 * Tenancy as SQL: a condition that keeps only rows the actor may see. Another unit's objects are
 * simply absent, so the API answers 404 for them, never 403.
 */
export interface ScopeSql {
  sql: string;
  params: unknown[];
}

const all: ScopeSql = { sql: 'TRUE', params: [] };

/** Batches a supervisor is assigned to (through any session of the batch). */
const supervisedBatches = (n: number) =>
  `SELECT s.batch_id FROM batch_sessions s JOIN session_supervisors ss ON ss.session_id = s.id WHERE ss.user_id = $${n}`;

/** Rows with a unit_id column (units use `id`). */
export function unitScope(actor: Actor, column: string, n: number): ScopeSql {
  switch (actor.role) {
    case 'admin':
    case 'auditor':
      return all;
    case 'unit_operator':
      return { sql: `${column} = $${n}`, params: [actor.unitId] };
    case 'supervisor':
      return {
        sql: `${column} IN (SELECT b.unit_id FROM batches b WHERE b.id IN (${supervisedBatches(n)}))`,
        params: [actor.userId],
      };
  }
}

/** Rows tied to a site (sites use `id`, cameras `site_id`). Supervisors see sites of their sessions. */
export function siteScope(actor: Actor, siteColumn: string, unitColumn: string, n: number): ScopeSql {
  if (actor.role !== 'supervisor') return unitScope(actor, unitColumn, n);
  return {
    sql: `${siteColumn} IN (SELECT s.site_id FROM batch_sessions s JOIN session_supervisors ss ON ss.session_id = s.id WHERE ss.user_id = $${n})`,
    params: [actor.userId],
  };
}

/** Batches: supervisors see only those they are assigned to. */
export function batchScope(actor: Actor, idColumn: string, unitColumn: string, n: number): ScopeSql {
  if (actor.role !== 'supervisor') return unitScope(actor, unitColumn, n);
  return { sql: `${idColumn} IN (${supervisedBatches(n)})`, params: [actor.userId] };
}

export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.includes(actor.role)) throw new ForbiddenError(`role '${actor.role}' may not do this`);
}

/** Writes to a unit's registry: admins anywhere, operators only in their own unit. */
export function canWriteUnit(actor: Actor, unitId: string): boolean {
  return actor.role === 'admin' || (actor.role === 'unit_operator' && actor.unitId === unitId);
}

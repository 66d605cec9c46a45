import { ForbiddenError } from '../platform/errors.js';
import type { Actor, Role } from './actor.js';

/*
 * The one place that decides who may see and do what: tenancy as SQL for lists, role checks for
 * actions, and the confidential-unit rules for live material and footage. Routes, services and the
 * socket.io hub all ask here.
 */

/**
 * Tenancy as SQL: a condition that keeps only rows the actor may see. Another unit's objects are
 * simply absent, so the API answers 404 for them, never 403.
 */
export interface ScopeSql {
  sql: string;
  params: unknown[];
}

const all: ScopeSql = { sql: 'TRUE', params: [] };

/** What a supervisor is assigned to: batches through any of their sessions, those sessions' sites, the batches' units. */
export interface SupervisorReach {
  batchIds: string[];
  siteIds: string[];
  unitIds: string[];
}

/** What the tenancy rules need to know, each answered by the module that owns it. */
export interface TenancySources {
  /** Answered by batches (sessions and their supervisors). */
  supervisorReach(userId: string): Promise<SupervisorReach>;
  /** Answered by sites (units): the confidential units (涉密单位). */
  confidentialUnitIds(): Promise<string[]>;
}

/**
 * Tenancy as SQL over the caller's own table: the rules live here, the facts (assignments,
 * confidentiality) come from their owners as ids, so no query here touches another module's table.
 */
export class Tenancy {
  constructor(private readonly sources: TenancySources) {}

  /** Rows with a unit_id column (units use `id`). */
  async unitScope(actor: Actor, column: string, n: number): Promise<ScopeSql> {
    switch (actor.role) {
      case 'admin':
      case 'auditor':
        return all;
      case 'unit_operator':
        return { sql: `${column} = $${n}`, params: [actor.unitId] };
      case 'supervisor':
        return {
          sql: `${column} = ANY($${n}::text[])`,
          params: [(await this.sources.supervisorReach(actor.userId)).unitIds],
        };
    }
  }

  /** Rows tied to a site (sites use `id`, cameras `site_id`). Supervisors see sites of their sessions. */
  async siteScope(actor: Actor, siteColumn: string, unitColumn: string, n: number): Promise<ScopeSql> {
    if (actor.role !== 'supervisor') return this.unitScope(actor, unitColumn, n);
    return {
      sql: `${siteColumn} = ANY($${n}::text[])`,
      params: [(await this.sources.supervisorReach(actor.userId)).siteIds],
    };
  }

  /** Batches: supervisors see only those they are assigned to. */
  async batchScope(actor: Actor, idColumn: string, unitColumn: string, n: number): Promise<ScopeSql> {
    if (actor.role !== 'supervisor') return this.unitScope(actor, unitColumn, n);
    return {
      sql: `${idColumn} = ANY($${n}::text[])`,
      params: [(await this.sources.supervisorReach(actor.userId)).batchIds],
    };
  }

  /**
   * SQL keeping rows (with site and unit columns) the actor may watch live: ordinary tenancy, and a
   * confidential unit's rows only for that unit's users (see mayViewUnit). Rows without a unit are
   * service-wide and only administrators see them.
   */
  async liveScope(actor: Actor, cols: { site: string; unit: string }, n: number): Promise<ScopeSql> {
    const scope = await this.siteScope(actor, cols.site, cols.unit, n);
    const confidential = await this.confidential(cols.unit, n + scope.params.length, actor.unitId);
    const service = actor.role === 'admin' ? `${cols.unit} IS NULL OR ` : '';
    return {
      sql: `(${service}(${cols.unit} IS NOT NULL AND ${scope.sql} AND ${confidential.sql}))`,
      params: [...scope.params, ...confidential.params],
    };
  }

  /**
   * Stored footage the actor may see: the camera's site in scope, and a confidential unit's footage
   * only to that unit's own users (never to platform viewers).
   */
  async footageScope(actor: Actor, cols: { site: string; unit: string }, n: number): Promise<ScopeSql> {
    const scope = await this.siteScope(actor, cols.site, cols.unit, n);
    const confidential = await this.confidential(cols.unit, n + scope.params.length, actor.unitId ?? '');
    return { sql: `${scope.sql} AND ${confidential.sql}`, params: [...scope.params, ...confidential.params] };
  }

  /** The same rule as siteScope, for one object already loaded (by its owner, without tenancy). */
  seesSite(actor: Actor, owner: { siteId: string; unitId: string }): Promise<boolean> {
    return this.sees(actor, owner.unitId, (reach) => reach.siteIds.includes(owner.siteId));
  }

  /** The same rule as batchScope, for one object already loaded. */
  seesBatch(actor: Actor, owner: { batchId: string; unitId: string }): Promise<boolean> {
    return this.sees(actor, owner.unitId, (reach) => reach.batchIds.includes(owner.batchId));
  }

  /** Admins and auditors see all; operators their unit; supervisors what their assignments reach. */
  private async sees(
    actor: Actor,
    unitId: string,
    reached: (reach: SupervisorReach) => boolean,
  ): Promise<boolean> {
    switch (actor.role) {
      case 'admin':
      case 'auditor':
        return true;
      case 'unit_operator':
        return unitId === actor.unitId;
      case 'supervisor':
        return reached(await this.sources.supervisorReach(actor.userId));
    }
  }

  /** The same rule as liveScope and footageScope, for one object (with a unit) already loaded. */
  async mayWatch(actor: Actor, owner: { siteId: string; unitId: string }): Promise<boolean> {
    if (!(await this.seesSite(actor, owner))) return false;
    return mayViewUnit(actor, { id: owner.unitId, confidential: await this.isConfidential(owner.unitId) });
  }

  async isConfidential(unitId: string): Promise<boolean> {
    return (await this.sources.confidentialUnitIds()).includes(unitId);
  }

  /** Rows of a non-confidential unit, or of the actor's own unit. */
  private async confidential(unitColumn: string, n: number, ownUnit: string | null): Promise<ScopeSql> {
    return {
      sql: `(NOT (${unitColumn} = ANY($${n}::text[])) OR ${unitColumn} = $${n + 1})`,
      params: [await this.sources.confidentialUnitIds(), ownUnit],
    };
  }
}

export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.includes(actor.role)) throw new ForbiddenError(`role '${actor.role}' may not do this`);
}

/** Writes to a unit's registry: admins anywhere, operators only in their own unit. */
export function canWriteUnit(actor: Actor, unitId: string): boolean {
  return actor.role === 'admin' || (actor.role === 'unit_operator' && actor.unitId === unitId);
}

/**
 * Who may see a unit's live events, alerts and live video. On top of ordinary tenancy, a
 * confidential unit's (涉密单位) live material never reaches platform viewers: only users of that
 * unit itself see it.
 */
export function mayViewUnit(actor: Actor, unit: { id: string; confidential: boolean }): boolean {
  return !unit.confidential || actor.unitId === unit.id;
}

/**
 * A confidential unit's footage never leaves the unit: only its own operators may take it out
 * (export, download). Metadata (lists, reports, verification results) stays visible to auditors.
 */
export function assertMayTakeFootage(actor: Actor, owner: { unitId: string; confidential: boolean }): void {
  if (owner.confidential && !(actor.role === 'unit_operator' && actor.unitId === owner.unitId))
    throw new ForbiddenError("a confidential unit's footage stays with the unit");
}

import type { Actor } from '../access/actor.js';
import { siteScope, type ScopeSql } from '../access/scope.js';

/**
 * Who may see a unit's live events, alerts and live video. On top of ordinary tenancy, a
 * confidential unit's (涉密单位) live material never reaches platform viewers: only users of that
 * unit itself see it.
 */
export function mayViewUnit(actor: Actor, unit: { id: string; confidential: boolean }): boolean {
  return !unit.confidential || actor.unitId === unit.id;
}

/**
 * SQL keeping rows (with site, unit and unit-confidential columns) the actor may watch live.
 * Rows without a unit are service-wide and only administrators see them.
 */
export function liveScope(
  actor: Actor,
  cols: { site: string; unit: string; confidential: string },
  n: number,
): ScopeSql {
  const scope = siteScope(actor, cols.site, cols.unit, n);
  const unitParam = n + scope.params.length;
  const service = actor.role === 'admin' ? `${cols.unit} IS NULL OR ` : '';
  return {
    sql: `(${service}(${cols.unit} IS NOT NULL AND ${scope.sql} AND (NOT ${cols.confidential} OR ${cols.unit} = $${unitParam})))`,
    params: [...scope.params, actor.unitId],
  };
}

import type { Actor } from '../access/actor.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import type { LiveEvent, LiveEventName, LiveEventPayloads } from './schemas.js';
import { mayViewUnit, type Tenancy } from '../access/policy.js';
import type { SiteRepository } from '../sites/site-repository.js';
import type { RunningSessions } from './alerts.js';

/** What the live event log asks other modules: sites (units) and batches (sessions). */
export interface LiveEventDeps {
  tenancy: Tenancy;
  sites: Pick<SiteRepository, 'siteOfUnit'>;
  batches: RunningSessions & { batchUnit(batchId: string): Promise<string | null> };
}

/** Who an event concerns; decides which subscribers receive it. */
export interface LiveScope {
  unitId: string | null;
  siteId: string | null;
  batchIds: string[];
  confidential: boolean;
}

/** An event with its scope, as it travels between processes. */
export interface ScopedLiveEvent {
  event: LiveEvent;
  scope: LiveScope;
}

/** What a client subscribes to: a site, a batch, or (administrators) service-wide events. */
export type LiveTarget = { siteId: string } | { batchId: string } | { service: true };

interface EventRow {
  seq: number;
  name: LiveEventName;
  unit_id: string | null;
  site_id: string | null;
  batch_ids: string[];
  confidential: boolean;
  payload: Record<string, unknown>;
  at: Date;
}

const REPLAY_LIMIT = 5000;

const toScoped = (r: EventRow): ScopedLiveEvent => ({
  event: { ...r.payload, seq: r.seq, name: r.name, at: r.at.toISOString() } as LiveEvent,
  scope: { unitId: r.unit_id, siteId: r.site_id, batchIds: r.batch_ids, confidential: r.confidential },
});

/** Does an event fall under a subscription target? */
export function inTarget(scope: LiveScope, target: LiveTarget): boolean {
  if ('siteId' in target) return scope.siteId === target.siteId;
  if ('batchId' in target) return scope.batchIds.includes(target.batchId);
  return scope.unitId === null;
}

/** May this actor receive this event at all (beyond having subscribed)? */
export function visibleTo(actor: Actor, scope: LiveScope): boolean {
  if (scope.unitId === null) return actor.role === 'admin';
  return mayViewUnit(actor, { id: scope.unitId, confidential: scope.confidential });
}

/**
 * The numbered log of live events: every pushed event gets the next value of one database sequence,
 * so clients of any API process can resume after the last seq they saw.
 */
export class LiveEventLog {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly deps: LiveEventDeps,
  ) {}

  async append<K extends LiveEventName>(
    name: K,
    scope: LiveScope,
    payload: LiveEventPayloads[K],
  ): Promise<ScopedLiveEvent> {
    const [row] = await this.db.query<EventRow>(
      `INSERT INTO live_events (name, unit_id, site_id, batch_ids, confidential, payload, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
      [
        name,
        scope.unitId,
        scope.siteId,
        scope.batchIds,
        scope.confidential,
        JSON.stringify(payload),
        this.clock.now(),
      ],
    );
    return toScoped(row!);
  }

  /** Events after `afterSeq` under the target that the actor may see, oldest first. */
  async replay(actor: Actor, target: LiveTarget, afterSeq: number): Promise<ScopedLiveEvent[]> {
    const cond =
      'siteId' in target
        ? { sql: 'site_id = $2', value: target.siteId }
        : 'batchId' in target
          ? { sql: '$2 = ANY(batch_ids)', value: target.batchId }
          : { sql: 'unit_id IS NULL AND $2::text IS NULL', value: null };
    const rows = await this.db.query<EventRow>(
      `SELECT * FROM live_events WHERE seq > $1 AND ${cond.sql} ORDER BY seq LIMIT ${REPLAY_LIMIT}`,
      [afterSeq, cond.value],
    );
    return rows.map(toScoped).filter((e) => visibleTo(actor, e.scope));
  }

  /** The newest seq, so a client can start from "now". */
  async lastSeq(): Promise<number> {
    const [r] = await this.db.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM live_events');
    return r?.seq ?? 0;
  }

  async prune(before: Date): Promise<number> {
    const rows = await this.db.query('DELETE FROM live_events WHERE at < $1 RETURNING seq', [before]);
    return rows.length;
  }

  /** May the actor subscribe to this target? Same answer as the REST API's tenancy, plus confidentiality. */
  async mayWatch(actor: Actor, target: LiveTarget): Promise<boolean> {
    if ('service' in target) return actor.role === 'admin';
    const { tenancy } = this.deps;
    if ('siteId' in target) {
      const site = await this.deps.sites.siteOfUnit(target.siteId);
      if (!site || !(await tenancy.seesSite(actor, { siteId: site.id, unitId: site.unitId }))) return false;
      return mayViewUnit(actor, { id: site.unitId, confidential: site.confidential });
    }
    const unitId = await this.deps.batches.batchUnit(target.batchId);
    if (!unitId || !(await tenancy.seesBatch(actor, { batchId: target.batchId, unitId }))) return false;
    return mayViewUnit(actor, { id: unitId, confidential: await tenancy.isConfidential(unitId) });
  }

  /** Scope of events about a site: its unit, confidentiality, and batches with a session running there now. */
  async siteScope(siteId: string, extraBatchId: string | null = null): Promise<LiveScope> {
    const [site, running] = await Promise.all([
      this.deps.sites.siteOfUnit(siteId),
      this.deps.batches.running(this.clock.now(), siteId),
    ]);
    const batchIds = new Set(site ? [...new Set(running.map((s) => s.batchId))].sort() : []);
    if (extraBatchId) batchIds.add(extraBatchId);
    return {
      unitId: site?.unitId ?? null,
      siteId,
      batchIds: [...batchIds],
      confidential: site?.confidential ?? false,
    };
  }
}

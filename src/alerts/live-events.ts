import type { Actor } from '../access/actor.js';
import { batchScope } from '../access/scope.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import type { LiveEvent, LiveEventName, LiveEventPayloads } from './schemas.js';
import { liveScope, mayViewUnit } from './visibility.js';

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
    if ('siteId' in target) {
      const scope = liveScope(actor, { site: 's.id', unit: 's.unit_id', confidential: 'u.confidential' }, 2);
      const rows = await this.db.query(
        `SELECT 1 FROM sites s JOIN units u ON u.id = s.unit_id WHERE s.id = $1 AND ${scope.sql}`,
        [target.siteId, ...scope.params],
      );
      return rows.length > 0;
    }
    const scope = batchScope(actor, 'b.id', 'b.unit_id', 2);
    const [row] = await this.db.query<{ unit_id: string; confidential: boolean }>(
      `SELECT b.unit_id, u.confidential FROM batches b JOIN units u ON u.id = b.unit_id WHERE b.id = $1 AND ${scope.sql}`,
      [target.batchId, ...scope.params],
    );
    return !!row && mayViewUnit(actor, { id: row.unit_id, confidential: row.confidential });
  }

  /** Scope of events about a site: its unit, confidentiality, and batches with a session running there now. */
  async siteScope(siteId: string, extraBatchId: string | null = null): Promise<LiveScope> {
    const [row] = await this.db.query<{ unit_id: string; confidential: boolean; batch_ids: string[] | null }>(
      `SELECT s.unit_id, u.confidential,
         (SELECT array_agg(DISTINCT bs.batch_id) FROM batch_sessions bs JOIN batches b ON b.id = bs.batch_id
          WHERE bs.site_id = s.id AND bs.starts_at <= $2 AND bs.ends_at > $2 AND b.status <> 'rejected') AS batch_ids
       FROM sites s JOIN units u ON u.id = s.unit_id WHERE s.id = $1`,
      [siteId, this.clock.now()],
    );
    const batchIds = new Set(row?.batch_ids ?? []);
    if (extraBatchId) batchIds.add(extraBatchId);
    return {
      unitId: row?.unit_id ?? null,
      siteId,
      batchIds: [...batchIds],
      confidential: row?.confidential ?? false,
    };
  }
}

import type { SupervisorReach } from '../access/policy.js';
import type { Db, Queryable } from '../platform/db.js';

/*
 * What other modules may know about batches and their sessions, answered by batches (the owner of
 * `batches`, `batch_sessions` and `session_supervisors`): tenancy asks what a supervisor is assigned
 * to, alerts and live events which batch runs at a site now and whose a batch is. Retention's sweep
 * reads the `batch_session_windows` view batches publishes (migration 007) instead.
 */

/** A session as a time window at a site. */
export interface SessionSpan {
  batchId: string;
  siteId: string;
  startsAt: Date;
  endsAt: Date;
}

interface SpanRow {
  batch_id: string;
  site_id: string;
  starts_at: Date;
  ends_at: Date;
}

const spanOf = (r: SpanRow): SessionSpan => ({
  batchId: r.batch_id,
  siteId: r.site_id,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
});

export class SessionRepository {
  constructor(private readonly db: Db) {}

  async supervisorReach(userId: string): Promise<SupervisorReach> {
    const [r] = await this.db.query<{ batch_ids: string[]; site_ids: string[]; unit_ids: string[] }>(
      `WITH mine AS (SELECT s.batch_id, s.site_id FROM batch_sessions s
                     JOIN session_supervisors ss ON ss.session_id = s.id WHERE ss.user_id = $1)
       SELECT ARRAY(SELECT DISTINCT batch_id FROM mine) AS batch_ids,
              ARRAY(SELECT DISTINCT site_id FROM mine) AS site_ids,
              ARRAY(SELECT DISTINCT b.unit_id FROM batches b WHERE b.id IN (SELECT batch_id FROM mine)) AS unit_ids`,
      [userId],
    );
    return { batchIds: r?.batch_ids ?? [], siteIds: r?.site_ids ?? [], unitIds: r?.unit_ids ?? [] };
  }

  /** The unit a batch belongs to, or null when there is no such batch. */
  async batchUnit(batchId: string): Promise<string | null> {
    const [r] = await this.db.query<{ unit_id: string }>('SELECT unit_id FROM batches WHERE id = $1', [
      batchId,
    ]);
    return r?.unit_id ?? null;
  }

  /**
   * Sessions running at `at` (starts_at <= at < ends_at) of batches not rejected, at one site or
   * (siteId null) anywhere, earliest start first.
   */
  async running(at: Date, siteId: string | null = null, q: Queryable = this.db): Promise<SessionSpan[]> {
    const rows = await q.query<SpanRow>(
      `SELECT bs.batch_id, bs.site_id, bs.starts_at, bs.ends_at FROM batch_sessions bs JOIN batches b ON b.id = bs.batch_id
       WHERE ($1::text IS NULL OR bs.site_id = $1) AND bs.starts_at <= $2 AND bs.ends_at > $2 AND b.status <> 'rejected'
       ORDER BY bs.starts_at, bs.site_id, bs.batch_id`,
      [siteId, at],
    );
    return rows.map(spanOf);
  }
}

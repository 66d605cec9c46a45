import type { Queryable } from '../platform/db.js';
import type { SiteRepository } from '../sites/site-repository.js';
import { NotFoundError } from '../platform/errors.js';
import type { SessionWindow } from './footage.js';
import { batchStatus, type BatchRow } from './batches.js';
import type { BatchStatus } from '../sites/schemas.js';

export interface BatchHead {
  id: string;
  code: string;
  unitId: string;
  unitName: string;
  confidential: boolean;
  occupationCode: string;
  level: number;
  status: BatchStatus;
  statusReason: string | null;
}

export interface SessionInfo extends SessionWindow {
  supervisorIds: string[];
}

export interface BatchContext {
  batch: BatchHead;
  sessions: SessionInfo[];
}

/** A batch with its unit and sessions, its status computed at `now`. */
export async function loadBatchContext(
  db: Queryable,
  units: Pick<SiteRepository, 'unit'>,
  batchId: string,
  now: Date,
): Promise<BatchContext> {
  const [b] = await db.query<BatchRow>(`SELECT b.* FROM batches b WHERE b.id = $1`, [batchId]);
  if (!b) throw new NotFoundError('batch');
  const unit = await units.unit(b.unit_id);
  if (!unit) throw new NotFoundError('batch');
  const rows = await db.query<{
    id: string;
    site_id: string;
    zone_ids: string[] | null;
    starts_at: Date;
    ends_at: Date;
    supervisor_ids: string[] | null;
  }>(
    `SELECT s.*, (SELECT array_agg(ss.user_id ORDER BY ss.user_id) FROM session_supervisors ss WHERE ss.session_id = s.id) AS supervisor_ids
     FROM batch_sessions s WHERE s.batch_id = $1 ORDER BY s.starts_at, s.id`,
    [batchId],
  );
  const sessions = rows.map((r) => ({
    sessionId: r.id,
    siteId: r.site_id,
    zoneIds: r.zone_ids,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    supervisorIds: r.supervisor_ids ?? [],
  }));
  return {
    batch: {
      id: b.id,
      code: b.code,
      unitId: b.unit_id,
      unitName: unit.name,
      confidential: unit.confidential,
      occupationCode: b.occupation_code,
      level: b.level,
      status: batchStatus(b.status, sessions, now),
      statusReason: b.status_reason,
    },
    sessions,
  };
}

import type { Actor } from '../access/actor.js';
import { canWriteUnit, requireRole, type Tenancy } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { SiteRepository } from '../sites/site-repository.js';
import { loadBatchContext, type BatchContext } from './context.js';
import type { Db, Queryable } from '../platform/db.js';
import { ConflictError, invalidField, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { cursorCondition, toPage, type ListQuery, type Page } from '../platform/pagination.js';
import type { BatchCreate, BatchStatus, BatchView } from '../sites/schemas.js';

/** A row of `batches`. */
export interface BatchRow {
  id: string;
  code: string;
  unit_id: string;
  occupation_code: string;
  level: number;
  status: BatchStatus;
  status_reason: string | null;
  created_at: Date;
}
/** A row of `batch_sessions`. */
export interface SessionRow {
  id: string;
  batch_id: string;
  site_id: string;
  zone_ids: string[] | null;
  starts_at: Date;
  ends_at: Date;
  supervisor_ids: string[] | null;
}

/**
 * Planned/in-progress/completed follow the sessions' times; approved and rejected are decisions
 * an administrator records and stay as they are.
 */
export function batchStatus(
  stored: BatchStatus,
  sessions: { startsAt: Date; endsAt: Date }[],
  now: Date,
): BatchStatus {
  if (stored === 'approved' || stored === 'rejected') return stored;
  const t = now.getTime();
  if (sessions.every((s) => s.endsAt.getTime() <= t)) return 'completed';
  if (sessions.some((s) => s.startsAt.getTime() <= t)) return 'in_progress';
  return 'planned';
}

/** Assessment batches (评价批次) and their sessions (场次). */
export class BatchService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly tenancy: Tenancy,
    private readonly sites: SiteRepository,
  ) {}

  async create(actor: Actor, input: BatchCreate): Promise<BatchView> {
    requireRole(actor, 'admin', 'unit_operator');
    if (!canWriteUnit(actor, input.unitId)) throw invalidField('unitId', 'no such unit');
    return this.db.transaction(async (tx) => {
      const unit = await this.sites.unit(input.unitId, tx);
      if (!unit) throw invalidField('unitId', 'no such unit');
      const [dup] = await tx.query('SELECT id FROM batches WHERE unit_id = $1 AND code = $2', [
        input.unitId,
        input.code,
      ]);
      if (dup)
        throw new ConflictError(`batch code '${input.code}' exists for this unit`, [
          { path: 'code', message: 'is already used by this unit' },
        ]);
      await this.checkSessions(tx, input);
      const id = newId();
      await tx.query(
        `INSERT INTO batches (id, code, unit_id, occupation_code, level, created_by) VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          id,
          input.code,
          input.unitId,
          input.occupationCode,
          input.level,
          actor.userId === 'system' ? null : actor.userId,
        ],
      );
      for (const s of input.sessions) {
        await tx.query(
          `INSERT INTO batch_sessions (id, batch_id, site_id, zone_ids, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)`,
          [newId(), id, s.siteId, s.zoneIds ?? null, s.startsAt, s.endsAt],
        );
      }
      await this.audit.record(
        actor,
        {
          action: 'batch.create',
          subjectType: 'batch',
          subjectId: id,
          details: { code: input.code, sessions: input.sessions.length },
        },
        tx,
      );
      return this.load(tx, id);
    });
  }

  /** A batch with its unit and sessions, its status computed at `now` (no tenancy check). */
  context(batchId: string, now: Date): Promise<BatchContext> {
    return loadBatchContext(this.db, this.sites, batchId, now);
  }

  private async checkSessions(tx: Queryable, input: BatchCreate): Promise<void> {
    for (const [i, s] of input.sessions.entries()) {
      const site = await this.sites.site(s.siteId, tx);
      if (!site || site.unitId !== input.unitId)
        throw invalidField(`sessions.${i}.siteId`, "no such site in this batch's unit");
      if (s.zoneIds?.length) {
        const found = await this.sites.zonesOfSite(s.siteId, s.zoneIds, tx);
        const known = new Set(found.map((z) => z.id));
        const bad = s.zoneIds.findIndex((z) => !known.has(z));
        if (bad >= 0)
          throw invalidField(`sessions.${i}.zoneIds.${bad}`, "is not a zone of this session's site");
      }
    }
  }

  /** The batch row if the actor may see it; 404 for others' batches. */
  async getRow(actor: Actor, id: string): Promise<BatchRow> {
    const scope = await this.tenancy.batchScope(actor, 'id', 'unit_id', 2);
    const [row] = await this.db.query<BatchRow>(`SELECT * FROM batches WHERE id = $1 AND ${scope.sql}`, [
      id,
      ...scope.params,
    ]);
    if (!row) throw new NotFoundError('batch');
    return row;
  }

  async get(actor: Actor, id: string): Promise<BatchView> {
    await this.getRow(actor, id);
    return this.load(this.db, id);
  }

  async list(actor: Actor, q: ListQuery): Promise<Page<BatchView>> {
    const scope = await this.tenancy.batchScope(actor, 'id', 'unit_id', 1);
    const after = cursorCondition(q, 1 + scope.params.length);
    const rows = await this.db.query<BatchRow>(
      `SELECT * FROM batches WHERE ${scope.sql} AND ${after.sql} ORDER BY created_at, id LIMIT ${q.limit + 1}`,
      [...scope.params, ...after.params],
    );
    const sessions = await this.sessionsOf(
      this.db,
      rows.map((r) => r.id),
    );
    return toPage(rows, q, (r) => this.view(r, sessions));
  }

  private async load(q: Queryable, id: string): Promise<BatchView> {
    const [row] = await q.query<BatchRow>('SELECT * FROM batches WHERE id = $1', [id]);
    if (!row) throw new NotFoundError('batch');
    return this.view(row, await this.sessionsOf(q, [id]));
  }

  private sessionsOf(q: Queryable, batchIds: string[]): Promise<SessionRow[]> {
    if (batchIds.length === 0) return Promise.resolve([]);
    return q.query<SessionRow>(
      `SELECT s.*, (SELECT array_agg(ss.user_id ORDER BY ss.user_id) FROM session_supervisors ss WHERE ss.session_id = s.id) AS supervisor_ids
       FROM batch_sessions s WHERE s.batch_id = ANY($1) ORDER BY s.starts_at, s.id`,
      [batchIds],
    );
  }

  private view(r: BatchRow, sessions: SessionRow[]): BatchView {
    const own = sessions.filter((s) => s.batch_id === r.id);
    return {
      id: r.id,
      code: r.code,
      unitId: r.unit_id,
      occupationCode: r.occupation_code,
      level: r.level,
      status: batchStatus(
        r.status,
        own.map((s) => ({ startsAt: s.starts_at, endsAt: s.ends_at })),
        this.clock.now(),
      ),
      statusReason: r.status_reason,
      createdAt: r.created_at.toISOString(),
      sessions: own.map((s) => ({
        id: s.id,
        siteId: s.site_id,
        zoneIds: s.zone_ids,
        startsAt: s.starts_at.toISOString(),
        endsAt: s.ends_at.toISOString(),
        supervisorIds: s.supervisor_ids ?? [],
      })),
    };
  }
}

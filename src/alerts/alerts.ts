import type { Actor } from '../access/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db, Queryable } from '../platform/db.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { cursorCondition, toPage, type Page } from '../platform/pagination.js';
import type { Signal } from './rules.js';
import type { AlertSeverity, AlertsQuery, AlertState, AlertView } from './schemas.js';
import type { Tenancy } from '../access/policy.js';

export interface AlertRow {
  id: string;
  rule: AlertView['rule'];
  dedupe_key: string;
  subject_type: AlertView['subject']['type'];
  subject_id: string | null;
  unit_id: string | null;
  site_id: string | null;
  zone_id: string | null;
  camera_id: string | null;
  batch_id: string | null;
  severity: AlertSeverity;
  state: AlertState;
  occurrences: number;
  detail: string | null;
  opened_at: Date;
  last_seen_at: Date;
  cleared_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function alertViewOf(r: AlertRow): AlertView {
  return {
    id: r.id,
    rule: r.rule,
    severity: r.severity,
    state: r.state,
    subject: { type: r.subject_type, id: r.subject_id },
    unitId: r.unit_id,
    siteId: r.site_id,
    zoneId: r.zone_id,
    cameraId: r.camera_id,
    batchId: r.batch_id,
    occurrences: r.occurrences,
    detail: r.detail,
    openedAt: r.opened_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    clearedAt: iso(r.cleared_at),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    resolvedAt: iso(r.resolved_at),
  };
}

const VISIBLE = `SELECT a.*, a.opened_at AS created_at FROM alerts a`;

/** Answered by batches: sessions running at `at` of batches not rejected, earliest start first. */
export interface RunningSessions {
  running(at: Date, siteId?: string | null): Promise<{ batchId: string; siteId: string }[]>;
}

/** The alerts table: what the engine opens, folds and resolves, and what users list and acknowledge. */
export class AlertStore {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly deps: { tenancy: Tenancy; sessions: RunningSessions },
  ) {}

  async list(actor: Actor, q: AlertsQuery): Promise<Page<AlertView>> {
    const scope = await this.deps.tenancy.liveScope(actor, { site: 'site_id', unit: 'unit_id' }, 1);
    const where = [scope.sql];
    const params = [...scope.params];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (q.state === 'unresolved') where.push(`state <> 'resolved'`);
    else if (q.state) add((n) => `state = $${n}`, q.state);
    if (q.siteId) add((n) => `site_id = $${n}`, q.siteId);
    if (q.batchId) add((n) => `batch_id = $${n}`, q.batchId);
    const after = cursorCondition(q, params.length + 1);
    where.push(after.sql);
    params.push(...after.params);
    const rows = await this.db.query<AlertRow & { created_at: Date }>(
      `SELECT * FROM (${VISIBLE}) v WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ${q.limit + 1}`,
      params,
    );
    return toPage(rows, q, alertViewOf);
  }

  /** How many alerts are not resolved, service-wide. */
  async countOpen(): Promise<number> {
    const [open] = await this.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM alerts WHERE state <> 'resolved'",
    );
    return Number(open?.n ?? 0);
  }

  /** The alert if the actor may see it; 404 otherwise (also for other units' alerts). */
  async getVisible(actor: Actor, id: string): Promise<AlertRow> {
    const scope = await this.deps.tenancy.liveScope(actor, { site: 'site_id', unit: 'unit_id' }, 2);
    const [row] = await this.db.query<AlertRow>(
      `SELECT * FROM (${VISIBLE}) v WHERE id = $1 AND ${scope.sql}`,
      [id, ...scope.params],
    );
    if (!row) throw new NotFoundError('alert');
    return row;
  }

  /** open → acknowledged; acknowledging twice is harmless, a resolved alert cannot be acknowledged. */
  async acknowledge(actor: Actor, id: string): Promise<{ row: AlertRow; changed: boolean }> {
    const current = await this.getVisible(actor, id);
    if (current.state === 'acknowledged') return { row: current, changed: false };
    if (current.state === 'resolved') throw new ConflictError('alert is already resolved');
    return this.db.transaction(async (tx) => {
      const [row] = await tx.query<AlertRow>(
        `UPDATE alerts SET state = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3
         WHERE id = $1 AND state = 'open' RETURNING *`,
        [id, this.clock.now(), actor.username],
      );
      if (!row) throw new ConflictError('alert changed state meanwhile; reload it');
      await this.audit.record(
        actor,
        { action: 'alert.acknowledge', subjectType: 'alert', subjectId: id, details: { rule: row.rule } },
        tx,
      );
      return { row, changed: true };
    });
  }

  /**
   * Opens the alert of a condition, or folds into the unresolved one already there (the unique index
   * makes two engines racing end up with one alert).
   */
  async openOrFold(
    s: Signal,
    fields: { severity: AlertSeverity; batchId: string | null; occurrences: number; at: Date },
  ): Promise<{ row: AlertRow; opened: boolean }> {
    const [row] = await this.db.query<AlertRow & { inserted: boolean }>(
      `INSERT INTO alerts (id, rule, dedupe_key, subject_type, subject_id, unit_id, site_id, zone_id, camera_id,
         batch_id, severity, state, occurrences, detail, opened_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $13, $14, $14)
       ON CONFLICT (dedupe_key) WHERE state <> 'resolved' DO UPDATE SET
         occurrences = alerts.occurrences + 1, last_seen_at = EXCLUDED.last_seen_at, cleared_at = NULL,
         detail = COALESCE(EXCLUDED.detail, alerts.detail)
       RETURNING *, (xmax = 0) AS inserted`,
      [
        newId(),
        s.rule,
        s.key,
        s.subjectType,
        s.subjectId,
        s.unitId,
        s.siteId,
        s.zoneId,
        s.cameraId,
        fields.batchId ?? s.batchId,
        fields.severity,
        fields.occurrences,
        s.detail,
        fields.at,
      ],
    );
    return { row: row!, opened: row!.inserted };
  }

  /** One more occurrence of an unresolved alert's condition. */
  async fold(id: string, at: Date, detail: string | null): Promise<AlertRow | null> {
    const [row] = await this.db.query<AlertRow>(
      `UPDATE alerts SET occurrences = occurrences + 1, last_seen_at = $2, cleared_at = NULL,
         detail = COALESCE($3, detail) WHERE id = $1 AND state <> 'resolved' RETURNING *`,
      [id, at, detail],
    );
    return row ?? null;
  }

  async markCleared(id: string, at: Date | null): Promise<void> {
    await this.db.query(`UPDATE alerts SET cleared_at = $2 WHERE id = $1 AND state <> 'resolved'`, [id, at]);
  }

  async resolve(id: string, at: Date): Promise<AlertRow | null> {
    const [row] = await this.db.query<AlertRow>(
      `UPDATE alerts SET state = 'resolved', resolved_at = $2 WHERE id = $1 AND state <> 'resolved' RETURNING *`,
      [id, at],
    );
    return row ?? null;
  }

  unresolved(q: Queryable = this.db): Promise<AlertRow[]> {
    return q.query<AlertRow>(`SELECT * FROM alerts WHERE state <> 'resolved' ORDER BY opened_at`);
  }

  // Timeline: every occurrence of a condition, blips included.

  async timelineStart(s: Signal): Promise<string> {
    const id = newId();
    await this.db.query(
      `INSERT INTO alert_timeline (id, dedupe_key, rule, unit_id, site_id, camera_id, zone_id, batch_id, started_at, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [id, s.key, s.rule, s.unitId, s.siteId, s.cameraId, s.zoneId, s.batchId, s.at, s.detail],
    );
    return id;
  }

  async timelineEnd(id: string, at: Date): Promise<void> {
    await this.db.query('UPDATE alert_timeline SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [
      id,
      at,
    ]);
  }

  /** Occurrences of a condition that started after `since` (the flapping window). */
  async occurrencesSince(key: string, since: Date): Promise<number> {
    const [r] = await this.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM alert_timeline WHERE dedupe_key = $1 AND started_at > $2',
      [key, since],
    );
    return r?.n ?? 0;
  }

  /** Links the window's occurrences (blips included) to the alert they add up to. */
  async linkTimeline(key: string, since: Date, alertId: string): Promise<void> {
    await this.db.query(
      'UPDATE alert_timeline SET alert_id = $3 WHERE dedupe_key = $1 AND started_at > $2 AND alert_id IS NULL',
      [key, since, alertId],
    );
  }

  /** A batch with a session running now at the site (any site when siteId is null), or null. */
  async runningBatch(siteId: string | null, at: Date): Promise<string | null> {
    const [first] = await this.deps.sessions.running(at, siteId);
    return first?.batchId ?? null;
  }

  /** Unresolved warnings at sites where a session has started since: raised to critical. */
  async raiseForRunningSessions(at: Date): Promise<AlertRow[]> {
    const bySite = new Map<string, string>();
    for (const s of await this.deps.sessions.running(at))
      if (!bySite.has(s.siteId)) bySite.set(s.siteId, s.batchId);
    if (bySite.size === 0) return [];
    return this.db.query<AlertRow>(
      `UPDATE alerts a SET severity = 'critical', batch_id = COALESCE(a.batch_id, r.batch_id)
       FROM unnest($1::text[], $2::text[]) AS r(site_id, batch_id)
       WHERE a.site_id = r.site_id AND a.state <> 'resolved' AND a.severity = 'warning'
       RETURNING a.*`,
      [[...bySite.keys()], [...bySite.values()]],
    );
  }
}

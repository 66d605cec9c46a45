import type { Actor } from '../access/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import type { BatchFootage, SessionFootage } from '../recording/batch-footage.js';
import { verifySegments, type SegmentVerification } from '../recording/batch-verify.js';
import type { FootageStore } from '../recording/footage-store.js';
import { loadBatchContext, type BatchContext } from './batch-context.js';
import { buildReport, type BatchReport } from './batch-report.js';
import type { BatchService } from './batches.js';
import type { Readiness, ReadinessService } from './readiness.js';
import type { BatchView } from './schemas.js';

export interface RecordingsView {
  batchId: string;
  sessions: { sessionId: string; from: string; to: string }[];
  cameras: {
    sessionId: string;
    cameraId: string;
    name: string;
    removedAt: string | null;
    zoneIds: string[];
    segments: {
      id: string;
      startedAt: string;
      endedAt: string;
      bytes: number;
      sha256: string;
      prevSha256: string | null;
    }[];
    gaps: { from: string; to: string; reason: string; detail: string | null }[];
  }[];
}

/** A batch's footage: what was recorded, how complete it is, and whether it is unaltered. */
export class BatchRecords {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly batches: BatchService,
    private readonly footage: BatchFootage,
    private readonly store: FootageStore,
    private readonly readiness: ReadinessService,
    private readonly opts: { verifyConcurrency: number },
  ) {}

  /** GET /batches/:id: the batch, its supervisors and the readiness of its next session; audited. */
  async detail(
    actor: Actor,
    batchId: string,
  ): Promise<
    BatchView & {
      supervisors: { id: string; username: string; kind: string | null; sessionIds: string[] }[];
      readiness: Readiness | null;
    }
  > {
    const batch = await this.batches.get(actor, batchId);
    const rows = await this.db.query<{
      id: string;
      username: string;
      kind: string | null;
      session_ids: string[];
    }>(
      `SELECT u.id, u.username, max(COALESCE(ss.kind, u.supervisor_kind)) AS kind, array_agg(ss.session_id ORDER BY ss.session_id) AS session_ids
       FROM session_supervisors ss JOIN batch_sessions s ON s.id = ss.session_id JOIN users u ON u.id = ss.user_id
       WHERE s.batch_id = $1 GROUP BY u.id, u.username ORDER BY u.username`,
      [batchId],
    );
    const readiness = await this.readiness.forBatch(batchId);
    await this.audit.record(actor, { action: 'batch.view', subjectType: 'batch', subjectId: batchId });
    return {
      ...batch,
      supervisors: rows.map((r) => ({
        id: r.id,
        username: r.username,
        kind: r.kind,
        sessionIds: r.session_ids,
      })),
      readiness,
    };
  }

  /** Tenancy check, then the batch with its sessions and their footage. */
  async load(actor: Actor, batchId: string): Promise<{ ctx: BatchContext; footage: SessionFootage[] }> {
    await this.batches.getRow(actor, batchId);
    const now = this.clock.now();
    const ctx = await loadBatchContext(this.db, batchId, now);
    return { ctx, footage: await this.footage.forSessions(ctx.sessions, now) };
  }

  async recordings(actor: Actor, batchId: string): Promise<RecordingsView> {
    const { footage } = await this.load(actor, batchId);
    await this.audit.record(actor, {
      action: 'batch.recordings.view',
      subjectType: 'batch',
      subjectId: batchId,
    });
    return {
      batchId,
      sessions: footage.map((f) => ({
        sessionId: f.session.sessionId,
        from: new Date(f.window.from).toISOString(),
        to: new Date(Math.max(f.window.from, f.window.to)).toISOString(),
      })),
      cameras: footage.flatMap((f) =>
        f.cameras.map((c) => ({
          sessionId: f.session.sessionId,
          cameraId: c.cameraId,
          name: c.name,
          removedAt: c.removedAt?.toISOString() ?? null,
          zoneIds: c.zoneIds,
          segments: c.segments.map((s) => ({
            id: s.id,
            startedAt: s.startedAt.toISOString(),
            endedAt: s.endedAt.toISOString(),
            bytes: s.bytes,
            sha256: s.sha256,
            prevSha256: s.prevSha256,
          })),
          gaps: c.gaps.map((g) => ({
            from: g.from.toISOString(),
            to: g.to.toISOString(),
            reason: g.reason,
            detail: g.detail,
          })),
        })),
      ),
    };
  }

  async report(actor: Actor, batchId: string, format: 'json' | 'html' = 'json'): Promise<BatchReport> {
    const { ctx, footage } = await this.load(actor, batchId);
    const siteIds = [...new Set(ctx.sessions.map((s) => s.siteId))];
    const sessionIds = ctx.sessions.map((s) => s.sessionId);
    const [zones, sites, supervisors, opinions] = await Promise.all([
      this.db.query<{ id: string; site_id: string; name: string }>(
        'SELECT id, site_id, name FROM zones WHERE site_id = ANY($1) ORDER BY created_at, id',
        [siteIds],
      ),
      this.db.query<{ id: string; name: string }>('SELECT id, name FROM sites WHERE id = ANY($1)', [siteIds]),
      this.db.query<{ id: string; username: string; kind: string | null }>(
        `SELECT u.id, u.username, COALESCE(ss.kind, u.supervisor_kind) AS kind FROM session_supervisors ss
         JOIN users u ON u.id = ss.user_id WHERE ss.session_id = ANY($1)`,
        [sessionIds],
      ),
      this.db.query<{ session_id: string; user_id: string; text: string; score: number; filed_at: Date }>(
        'SELECT * FROM session_opinions WHERE session_id = ANY($1)',
        [sessionIds],
      ),
    ]);
    await this.audit.record(actor, {
      action: 'batch.report.view',
      subjectType: 'batch',
      subjectId: batchId,
      details: { format },
    });
    return buildReport({
      ctx,
      footage,
      zones: new Map(zones.map((z) => [z.id, { name: z.name, siteId: z.site_id }])),
      siteNames: new Map(sites.map((s) => [s.id, s.name])),
      supervisors: new Map(supervisors.map((u) => [u.id, { username: u.username, kind: u.kind }])),
      opinions: new Map(
        opinions.map((o) => [
          `${o.session_id}:${o.user_id}`,
          { text: o.text, score: o.score, filedAt: o.filed_at },
        ]),
      ),
      now: this.clock.now(),
    });
  }

  /** Re-reads every stored segment of the batch; the result is written to the audit log. */
  async verify(actor: Actor, batchId: string): Promise<SegmentVerification> {
    const { footage } = await this.load(actor, batchId);
    const segments = footage.flatMap((f) => f.cameras.flatMap((c) => c.segments));
    const started = Date.now();
    const result = await verifySegments(this.db, this.store, segments, this.opts.verifyConcurrency);
    await this.audit.record(actor, {
      action: 'batch.verify',
      subjectType: 'batch',
      subjectId: batchId,
      details: {
        ok: result.ok,
        checkedSegments: result.checkedSegments,
        problems: result.problems.map((p) => ({ segmentId: p.segmentId, kind: p.kind })),
        ms: Date.now() - started,
      },
    });
    return result;
  }
}

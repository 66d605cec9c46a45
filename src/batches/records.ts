import type { Actor } from '../access/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import { gapJson, segmentJson, type BatchFootage, type SessionFootage } from './footage.js';
import { verifySegments, type ChainLinks, type SegmentVerification } from './verify.js';
import type { UserService } from '../access/users.js';
import type { SiteRepository } from '../sites/site-repository.js';
import type { FootageStore } from '../recording/footage-store.js';
import type { BatchContext } from './context.js';
import { buildReport, type BatchReport } from './report.js';
import type { BatchService } from './batches.js';
import type { ReadinessService } from './readiness.js';
import type { Readiness, RecordingsView } from './schemas.js';
import type { BatchView } from '../sites/schemas.js';

/** What records ask other modules: user names (access), site and zone names (sites), hash chains (recording). */
export interface RecordsOwners {
  users: Pick<UserService, 'namesOf'>;
  sites: Pick<SiteRepository, 'sites' | 'zonesOfSites'>;
  segments: ChainLinks;
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
    private readonly owners: RecordsOwners,
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
    const assigned = await this.db.query<{ user_id: string; kind: string | null; session_id: string }>(
      `SELECT ss.user_id, ss.kind, ss.session_id FROM session_supervisors ss JOIN batch_sessions s ON s.id = ss.session_id
       WHERE s.batch_id = $1 ORDER BY ss.session_id`,
      [batchId],
    );
    const users = await this.owners.users.namesOf([...new Set(assigned.map((a) => a.user_id))]);
    const readiness = await this.readiness.forBatch(batchId);
    await this.audit.record(actor, { action: 'batch.view', subjectType: 'batch', subjectId: batchId });
    return {
      ...batch,
      supervisors: users.map((u) => {
        const mine = assigned.filter((a) => a.user_id === u.id);
        // The draw's kind, else the user's; 'internal' wins over 'external' (as max() did).
        const kinds = mine.map((a) => a.kind ?? u.supervisorKind).filter((k): k is string => k !== null);
        return {
          id: u.id,
          username: u.username,
          kind: kinds.length ? kinds.reduce((a, b) => (b > a ? b : a)) : null,
          sessionIds: mine.map((a) => a.session_id),
        };
      }),
      readiness,
    };
  }

  /** Tenancy check, then the batch with its sessions and their footage. */
  async load(actor: Actor, batchId: string): Promise<{ ctx: BatchContext; footage: SessionFootage[] }> {
    await this.batches.getRow(actor, batchId);
    const now = this.clock.now();
    const ctx = await this.batches.context(batchId, now);
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
          segments: c.segments.map(segmentJson),
          gaps: c.gaps.map(gapJson),
        })),
      ),
    };
  }

  async report(actor: Actor, batchId: string, format: 'json' | 'html' = 'json'): Promise<BatchReport> {
    const { ctx, footage } = await this.load(actor, batchId);
    const siteIds = [...new Set(ctx.sessions.map((s) => s.siteId))];
    const sessionIds = ctx.sessions.map((s) => s.sessionId);
    const [zones, sites, assigned, opinions] = await Promise.all([
      this.owners.sites.zonesOfSites(siteIds),
      this.owners.sites.sites(siteIds),
      this.db.query<{ user_id: string; kind: string | null }>(
        'SELECT user_id, kind FROM session_supervisors WHERE session_id = ANY($1)',
        [sessionIds],
      ),
      this.db.query<{ session_id: string; user_id: string; text: string; score: number; filed_at: Date }>(
        'SELECT * FROM session_opinions WHERE session_id = ANY($1)',
        [sessionIds],
      ),
    ]);
    const users = new Map(
      (await this.owners.users.namesOf([...new Set(assigned.map((a) => a.user_id))])).map((u) => [u.id, u]),
    );
    await this.audit.record(actor, {
      action: 'batch.report.view',
      subjectType: 'batch',
      subjectId: batchId,
      details: { format },
    });
    return buildReport({
      ctx,
      footage,
      zones: new Map(zones.map((z) => [z.id, { name: z.name, siteId: z.siteId }])),
      siteNames: new Map(sites.map((s) => [s.id, s.name])),
      supervisors: new Map(
        assigned.flatMap((a) => {
          const u = users.get(a.user_id);
          return u ? [[u.id, { username: u.username, kind: a.kind ?? u.supervisorKind }] as const] : [];
        }),
      ),
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
    const result = await verifySegments(
      this.owners.segments,
      this.store,
      segments,
      this.opts.verifyConcurrency,
    );
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

import type { Actor } from '../access/actor.js';
import { requireRole } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import { ConflictError, ForbiddenError, invalidField } from '../platform/errors.js';
import type { Retention } from '../recording/retention.js';
import type { BatchService } from './batches.js';
import type { BatchView } from '../sites/schemas.js';
import type { OpinionView } from './schemas.js';

/** Administrative decisions on a batch (approve, reject) and supervisors' opinions. */
export class BatchLifecycle {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly batches: BatchService,
    private readonly retention: Pick<Retention, 'placeHold'>,
  ) {}

  /** Approval needs every session over; an approved batch can still be rejected later (dispute). */
  async approve(actor: Actor, batchId: string): Promise<BatchView> {
    requireRole(actor, 'admin');
    await this.batches.getRow(actor, batchId);
    const { batch } = await this.batches.context(batchId, this.clock.now());
    if (batch.status !== 'completed')
      throw new ConflictError(`batch is ${batch.status}; only a completed batch can be approved`);
    await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE batches SET status = 'approved', status_reason = NULL WHERE id = $1`, [batchId]);
      await this.audit.record(
        actor,
        { action: 'batch.approve', subjectType: 'batch', subjectId: batchId },
        tx,
      );
    });
    return this.batches.get(actor, batchId);
  }

  /**
   * Rejection (驳回) invalidates the batch and puts its footage on hold: a batch hold covers every
   * camera of the sessions' sites over each session with the margin, and retention keeps it until released.
   */
  async reject(actor: Actor, batchId: string, reason: string): Promise<BatchView & { holdId: string }> {
    requireRole(actor, 'admin');
    await this.batches.getRow(actor, batchId);
    const ctx = await this.batches.context(batchId, this.clock.now());
    if (ctx.batch.status === 'rejected') throw new ConflictError('batch is already rejected');
    const holdId = await this.db.transaction(async (tx) => {
      await tx.query(`UPDATE batches SET status = 'rejected', status_reason = $2 WHERE id = $1`, [
        batchId,
        reason,
      ]);
      const hold = await this.retention.placeHold(
        actor,
        { batchId, reason: `batch ${ctx.batch.code} rejected: ${reason}` },
        tx,
      );
      await this.audit.record(
        actor,
        {
          action: 'batch.reject',
          subjectType: 'batch',
          subjectId: batchId,
          details: { reason, holdId: hold.id },
        },
        tx,
      );
      return hold.id;
    });
    return { ...(await this.batches.get(actor, batchId)), holdId };
  }

  /** An assigned supervisor files (or replaces) their opinion and score for one session. */
  async fileOpinion(
    actor: Actor,
    batchId: string,
    input: { sessionId: string; text: string; score: number },
  ): Promise<OpinionView> {
    requireRole(actor, 'supervisor');
    await this.batches.getRow(actor, batchId);
    const [session] = await this.db.query<{ id: string }>(
      'SELECT id FROM batch_sessions WHERE id = $1 AND batch_id = $2',
      [input.sessionId, batchId],
    );
    if (!session) throw invalidField('sessionId', 'is not a session of this batch');
    const [assigned] = await this.db.query(
      'SELECT 1 FROM session_supervisors WHERE session_id = $1 AND user_id = $2',
      [input.sessionId, actor.userId],
    );
    if (!assigned) throw new ForbiddenError('you are not assigned to this session');
    const filedAt = this.clock.now();
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO session_opinions (session_id, user_id, text, score, filed_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (session_id, user_id) DO UPDATE SET text = EXCLUDED.text, score = EXCLUDED.score, filed_at = EXCLUDED.filed_at`,
        [input.sessionId, actor.userId, input.text, input.score, filedAt],
      );
      await this.audit.record(
        actor,
        {
          action: 'batch.opinion',
          subjectType: 'batch',
          subjectId: batchId,
          details: { sessionId: input.sessionId, score: input.score, text: input.text },
        },
        tx,
      );
    });
    return {
      sessionId: input.sessionId,
      userId: actor.userId,
      text: input.text,
      score: input.score,
      filedAt: filedAt.toISOString(),
    };
  }
}

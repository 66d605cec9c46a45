import { statfs } from 'node:fs/promises';
import { systemActor, type Actor } from '../access/actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db, Queryable } from '../platform/db.js';
import { invalidField, NotFoundError } from '../platform/errors.js';
import type { EventPublisher } from '../platform/event-bus.js';
import { newId } from '../platform/ids.js';
import type { Logger } from '../platform/logger.js';
import type { RecordingEvents } from './events.js';
import type { FootageStore } from './footage-store.js';
import type { SegmentRow } from './segment-index.js';

export interface RetentionPolicy {
  retentionDays: number;
  batchRetentionDays: number;
  batchMarginMinutes: number;
}

export interface RetentionOptions extends RetentionPolicy {
  /** Segments deleted per transaction. */
  sweepBatch: number;
  /** Fill level (0..1) above which unprotected footage is removed oldest first. */
  fillLimit: number;
  /** Capacity of the store in bytes; unset: the local disk's own size (no pressure check on S3). */
  capacityBytes?: number;
  /** Directory whose file system holds local footage. */
  localRoot?: string;
}

/** Why a segment may or may not be deleted now. */
export interface Protection {
  /** Unreleased holds covering the segment. */
  holdIds: string[];
  /** Batches whose sessions (± margin) overlap the segment. */
  batchIds: string[];
  /** Kept at least until then by batch retention (null: no batch link). */
  batchUntil: Date | null;
  /** When the segment may be deleted: null while held. */
  expiresAt: Date | null;
  /** True when a hold or an unexpired batch link protects it from any deletion now (pressure included). */
  protected: boolean;
}

export interface HoldRow {
  id: string;
  batch_id: string | null;
  camera_id: string | null;
  from_at: Date | null;
  to_at: Date | null;
  reason: string;
  created_by: string | null;
  created_at: Date;
  released_at: Date | null;
  released_by: string | null;
}

export interface HoldInput {
  batchId?: string;
  cameraId?: string;
  from?: Date;
  to?: Date;
  reason: string;
}

// Serialises hold changes with deletions: a hold placed while a sweep runs is seen before anything goes.
const RETENTION_LOCK = 5_118_203;

/**
 * SQL conditions over a segment row `s` (params: $1 now, $2 margin minutes, $3 batch days).
 * One definition serves the sweep, pressure relief and protectionOf, so they cannot disagree.
 * Batch sessions come from `batch_session_windows`, the view batches publishes for this (the
 * sweep judges every segment in one statement, under the retention lock).
 */
const sessionOverlaps = (sess: string) =>
  `${sess}.site_id = s.site_id AND ${sess}.starts_at - make_interval(mins => $2::int) < s.ended_at
   AND ${sess}.ends_at + make_interval(mins => $2::int) > s.started_at`;
const heldSql = `EXISTS (SELECT 1 FROM footage_holds h WHERE h.released_at IS NULL
   AND (h.camera_id IS NULL OR h.camera_id = s.camera_id)
   AND (h.from_at IS NULL OR h.from_at < s.ended_at) AND (h.to_at IS NULL OR h.to_at > s.started_at)
   AND (h.batch_id IS NULL OR EXISTS (SELECT 1 FROM batch_session_windows hb WHERE hb.batch_id = h.batch_id AND ${sessionOverlaps('hb')})))`;
const batchLinkedSql = `EXISTS (SELECT 1 FROM batch_session_windows bs WHERE ${sessionOverlaps('bs')}
   AND bs.batch_ends_at + make_interval(days => $3::int) > $1::timestamptz)`;
export const protectedSql = `(${heldSql} OR ${batchLinkedSql})`;

/** Which owner's row a foreign-key violation says is missing. */
function missingReference(err: unknown): 'batch' | 'camera' | null {
  const e = err as { code?: string; constraint?: string; detail?: string; message?: string };
  if (e?.code !== '23503') return null;
  const where = `${e.constraint ?? ''} ${e.detail ?? ''} ${e.message ?? ''}`;
  return where.includes('batch_id') ? 'batch' : where.includes('camera_id') ? 'camera' : null;
}

/** Retention of footage: expiry by policy, batch protection, holds, pressure relief. */
export class Retention {
  constructor(
    private readonly db: Db,
    private readonly store: FootageStore,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly events: EventPublisher<RecordingEvents>,
    private readonly log: Logger,
    private readonly opts: RetentionOptions,
  ) {}

  private params(now = this.clock.now()): unknown[] {
    return [now, this.opts.batchMarginMinutes, this.opts.batchRetentionDays];
  }

  /** The protection of a segment now (exported for batches: verify, reports). */
  async protectionOf(segment: Pick<SegmentRow, 'id'>): Promise<Protection> {
    const now = this.clock.now();
    const [r] = await this.db.query<{
      ended_at: Date;
      hold_ids: string[] | null;
      batch_ids: string[] | null;
      batch_end: Date | null;
    }>(
      `SELECT s.ended_at,
         (SELECT array_agg(h.id) FROM footage_holds h WHERE h.released_at IS NULL
            AND (h.camera_id IS NULL OR h.camera_id = s.camera_id)
            AND (h.from_at IS NULL OR h.from_at < s.ended_at) AND (h.to_at IS NULL OR h.to_at > s.started_at)
            AND (h.batch_id IS NULL OR EXISTS (SELECT 1 FROM batch_session_windows hb WHERE hb.batch_id = h.batch_id AND ${sessionOverlaps('hb')}))) AS hold_ids,
         (SELECT array_agg(DISTINCT bs.batch_id) FROM batch_session_windows bs WHERE ${sessionOverlaps('bs')}) AS batch_ids,
         (SELECT max(bs.batch_ends_at) FROM batch_session_windows bs WHERE ${sessionOverlaps('bs')}) AS batch_end
       FROM segments s WHERE s.id = $4 AND $1::timestamptz IS NOT NULL AND $3::int IS NOT NULL`,
      [...this.params(now), segment.id],
    );
    if (!r) throw new NotFoundError('recording');
    const day = 86_400_000;
    const batchUntil = r.batch_end
      ? new Date(r.batch_end.getTime() + this.opts.batchRetentionDays * day)
      : null;
    const plain = r.ended_at.getTime() + this.opts.retentionDays * day;
    const holdIds = r.hold_ids ?? [];
    const expiresAt = holdIds.length ? null : new Date(Math.max(plain, batchUntil?.getTime() ?? 0));
    return {
      holdIds,
      batchIds: r.batch_ids ?? [],
      batchUntil,
      expiresAt,
      protected: holdIds.length > 0 || (batchUntil !== null && batchUntil.getTime() > now.getTime()),
    };
  }

  /** When a new segment may be deleted at the earliest, for Object Lock retention. */
  retainUntilFor(endedAt: Date): Date {
    return new Date(endedAt.getTime() + this.opts.retentionDays * 86_400_000);
  }

  /**
   * Deletes expired footage in bounded batches (storage first, then the index; each deletion
   * audited), then relieves storage pressure. Returns how many segments went, and why.
   */
  async sweep(maxBatches = 20): Promise<{ expired: number; pressure: number; fill: number | null }> {
    let expired = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await this.deleteBatch(
        `s.ended_at < $1::timestamptz - make_interval(days => ${Number(this.opts.retentionDays)})`,
        'retention',
      );
      expired += n;
      if (n < this.opts.sweepBatch) break;
    }
    let pressure = 0;
    let fill = await this.fillLevel();
    if (fill !== null && fill > this.opts.fillLimit) {
      for (let i = 0; i < maxBatches && fill !== null && fill > this.opts.fillLimit; i++) {
        const n = await this.deleteBatch('TRUE', 'storage_pressure', 1);
        pressure += n;
        fill = await this.fillLevel();
        if (n === 0) break;
      }
      const still = fill !== null && fill > this.opts.fillLimit;
      await this.events
        .publish('service.fault', {
          kind: 'storage_pressure',
          active: still,
          at: this.clock.now().toISOString(),
          detail: `store ${Math.round((fill ?? 0) * 100)}% full (limit ${Math.round(this.opts.fillLimit * 100)}%), removed ${pressure} unprotected segments${still ? '; the rest is protected' : ''}`,
        })
        .catch((err) => this.log.warn({ err: (err as Error).message }, 'could not publish storage pressure'));
      this.log.warn({ fill, pressure }, 'storage pressure: removed oldest unprotected footage');
    }
    return { expired, pressure, fill };
  }

  private async deleteBatch(
    condition: string,
    reason: string,
    limit = this.opts.sweepBatch,
  ): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [RETENTION_LOCK]);
      const rows = await tx.query<SegmentRow>(
        `SELECT s.* FROM segments s WHERE ${condition} AND NOT ${protectedSql}
         ORDER BY s.started_at LIMIT ${Number(limit)} FOR UPDATE SKIP LOCKED`,
        this.params(),
      );
      let n = 0;
      for (const s of rows) {
        try {
          await this.store.delete(s.object_key);
        } catch (err) {
          this.log.warn(
            { err: (err as Error).message, key: s.object_key },
            'could not delete footage object',
          );
          continue;
        }
        await tx.query('DELETE FROM segments WHERE id = $1', [s.id]);
        await this.audit.record(
          systemActor,
          {
            action: 'recording.deleted',
            subjectType: 'recording',
            subjectId: s.id,
            details: {
              reason,
              cameraId: s.camera_id,
              startedAt: s.started_at.toISOString(),
              endedAt: s.ended_at.toISOString(),
              objectKey: s.object_key,
              sha256: s.sha256,
            },
          },
          tx,
        );
        n++;
      }
      return n;
    });
  }

  /** Used share of the store (0..1), or null when it cannot be known. */
  async fillLevel(): Promise<number | null> {
    if (this.opts.capacityBytes) {
      const [r] = await this.db.query<{ total: number | null }>(
        'SELECT sum(bytes)::bigint AS total FROM segments',
      );
      return Number(r?.total ?? 0) / this.opts.capacityBytes;
    }
    if (this.store.kind === 'local' && this.opts.localRoot) {
      try {
        const st = await statfs(this.opts.localRoot);
        return st.blocks > 0 ? 1 - st.bavail / st.blocks : null;
      } catch {
        return null;
      }
    }
    return null;
  }

  /** Places a hold: the footage it covers is kept, whatever the policy, until released. */
  async placeHold(actor: Actor, input: HoldInput, tx?: Queryable): Promise<HoldRow> {
    if (!input.batchId && !input.cameraId)
      throw invalidField('batchId', 'a hold needs a batchId or a cameraId');
    if (input.from && input.to && input.to <= input.from) throw invalidField('to', 'must be after from');
    const run = async (q: Queryable) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [RETENTION_LOCK]);
      // The batch and the camera are checked by the table's foreign keys (their owners' rows).
      const [row] = await q
        .query<HoldRow>(
          `INSERT INTO footage_holds (id, batch_id, camera_id, from_at, to_at, reason, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
          [
            newId(),
            input.batchId ?? null,
            input.cameraId ?? null,
            input.from ?? null,
            input.to ?? null,
            input.reason,
            actor.userId === 'system' ? null : actor.userId,
            this.clock.now(),
          ],
        )
        .catch((err: unknown) => {
          const missing = missingReference(err);
          if (missing === 'batch') throw invalidField('batchId', 'no such batch');
          if (missing === 'camera') throw invalidField('cameraId', 'no such camera');
          throw err;
        });
      await this.audit.record(
        actor,
        {
          action: 'hold.placed',
          subjectType: 'hold',
          subjectId: row!.id,
          details: {
            batchId: input.batchId ?? null,
            cameraId: input.cameraId ?? null,
            from: input.from?.toISOString() ?? null,
            to: input.to?.toISOString() ?? null,
            reason: input.reason,
          },
        },
        q,
      );
      return row!;
    };
    return tx ? run(tx) : this.db.transaction(run);
  }

  async releaseHold(actor: Actor, holdId: string): Promise<HoldRow> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [RETENTION_LOCK]);
      const [row] = await tx.query<HoldRow>(
        `UPDATE footage_holds SET released_at = $2, released_by = $3 WHERE id = $1 AND released_at IS NULL RETURNING *`,
        [holdId, this.clock.now(), actor.userId === 'system' ? null : actor.userId],
      );
      if (!row) throw new NotFoundError('active hold');
      await this.audit.record(actor, { action: 'hold.released', subjectType: 'hold', subjectId: holdId }, tx);
      return row;
    });
  }

  async holds(opts: { active?: boolean } = {}): Promise<HoldRow[]> {
    return this.db.query<HoldRow>(
      `SELECT * FROM footage_holds ${opts.active ? 'WHERE released_at IS NULL' : ''} ORDER BY created_at DESC LIMIT 1000`,
    );
  }

  /** Sites with a batch session running now (± margin): their cameras' spool footage goes last. */
  async sitesInActiveSessions(): Promise<Set<string>> {
    const rows = await this.db.query<{ site_id: string }>(
      `SELECT DISTINCT bs.site_id FROM batch_session_windows bs
       WHERE bs.starts_at - make_interval(mins => $2::int) <= $1::timestamptz AND bs.ends_at + make_interval(mins => $2::int) >= $1::timestamptz`,
      [this.clock.now(), this.opts.batchMarginMinutes],
    );
    return new Set(rows.map((r) => r.site_id));
  }
}

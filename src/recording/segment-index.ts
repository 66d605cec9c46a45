import type { Clock } from '../platform/clock.js';
import type { Db, Queryable } from '../platform/db.js';
import { newId } from '../platform/ids.js';

/** A stored segment as the index knows it. */
export interface SegmentRow {
  id: string;
  camera_id: string;
  site_id: string;
  unit_id: string;
  started_at: Date;
  ended_at: Date;
  bytes: number;
  codec: string | null;
  width: number | null;
  height: number | null;
  sha256: string;
  prev_sha256: string | null;
  object_key: string;
  created_at: Date;
}

export interface GapRow {
  id: string;
  camera_id: string;
  started_at: Date;
  ended_at: Date | null;
  reason: string;
  detail: string | null;
}

export interface NewSegment {
  cameraId: string;
  siteId: string;
  unitId: string;
  startedAt: Date;
  endedAt: Date;
  bytes: number;
  codec: string | null;
  width: number | null;
  height: number | null;
  sha256: string;
  objectKey: string;
}

/** Reasons a span has no footage. */
export type GapReason =
  'offline' | 'stalled' | 'restarting' | 'stopped' | 'crash' | 'storage_full' | 'corrupt' | 'interrupted';

/** Maps a supervisor's free-text exit reason to a gap reason (the text is kept as detail). */
export function gapReason(text: string): GapReason {
  const t = text.toLowerCase();
  if (t.includes('stall')) return 'stalled';
  if (t.includes('restart')) return 'restarting';
  if (t.includes('stop') || t.includes('removed') || t.includes('shutdown')) return 'stopped';
  if (t.includes('crash') || t.includes('killed')) return 'crash';
  return 'offline';
}

/** Consecutive segments further apart than this need a gap row explaining the difference. */
export const CONTIGUITY_TOLERANCE_MS = 250;

const lockCamera = (tx: Queryable, cameraId: string) =>
  tx.query(`SELECT pg_advisory_xact_lock(hashtext('segments:' || $1))`, [cameraId]);

/**
 * The index of stored segments and of the gaps between them. Segments of a camera form a hash
 * chain (prev_sha256); every discontinuity is covered by gap rows with a reason.
 */
export class SegmentIndex {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async byKey(objectKey: string): Promise<SegmentRow | null> {
    const [row] = await this.db.query<SegmentRow>('SELECT * FROM segments WHERE object_key = $1', [
      objectKey,
    ]);
    return row ?? null;
  }

  async last(cameraId: string): Promise<SegmentRow | null> {
    const [row] = await this.db.query<SegmentRow>(
      'SELECT * FROM segments WHERE camera_id = $1 ORDER BY started_at DESC LIMIT 1',
      [cameraId],
    );
    return row ?? null;
  }

  /**
   * Adds a segment at the end of its camera's chain, and explains any hole before it. Idempotent:
   * a segment already indexed under the same key is returned as it is.
   */
  async insert(seg: NewSegment): Promise<{ row: SegmentRow; created: boolean }> {
    return this.db.transaction(async (tx) => {
      await lockCamera(tx, seg.cameraId);
      const [existing] = await tx.query<SegmentRow>('SELECT * FROM segments WHERE object_key = $1', [
        seg.objectKey,
      ]);
      if (existing) return { row: existing, created: false };
      const [prev] = await tx.query<SegmentRow>(
        `SELECT * FROM segments WHERE camera_id = $1 AND started_at < $2 ORDER BY started_at DESC LIMIT 1`,
        [seg.cameraId, seg.startedAt],
      );
      // A segment overlapping its predecessor (clock stepped back, repaired leftover) starts where it ends.
      const startedAt =
        prev && prev.ended_at.getTime() > seg.startedAt.getTime() ? prev.ended_at : seg.startedAt;
      if (startedAt.getTime() >= seg.endedAt.getTime()) return { row: prev!, created: false };
      const [row] = await tx.query<SegmentRow>(
        `INSERT INTO segments (id, camera_id, site_id, unit_id, started_at, ended_at, bytes, codec, width, height,
           sha256, prev_sha256, object_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
        [
          newId(),
          seg.cameraId,
          seg.siteId,
          seg.unitId,
          startedAt,
          seg.endedAt,
          seg.bytes,
          seg.codec,
          seg.width,
          seg.height,
          seg.sha256,
          prev?.sha256 ?? null,
          seg.objectKey,
        ],
      );
      await this.explain(tx, seg.cameraId, prev?.ended_at ?? null, startedAt);
      return { row: row!, created: true };
    });
  }

  /**
   * Makes sure [from, to) is covered by gap rows: open gaps of the camera are closed at `to` (the
   * earliest stretched back to `from`, later ones merged into it), and whatever no row covers gets an
   * 'interrupted' row.
   */
  private async explain(tx: Queryable, cameraId: string, from: Date | null, to: Date): Promise<void> {
    const open = await tx.query<GapRow>(
      `SELECT * FROM recording_gaps WHERE camera_id = $1 AND ended_at IS NULL AND started_at <= $2 ORDER BY started_at`,
      [cameraId, to],
    );
    const hole = from !== null && to.getTime() - from.getTime() > CONTIGUITY_TOLERANCE_MS;
    if (open.length > 0) {
      const [first, ...rest] = open;
      if (!hole && from !== null) {
        // Footage went on: the opened gaps explain nothing.
        await tx.query(`DELETE FROM recording_gaps WHERE id = ANY($1)`, [open.map((g) => g.id)]);
        return;
      }
      const details = [first!.detail, ...rest.map((g) => `${g.reason}${g.detail ? `: ${g.detail}` : ''}`)]
        .filter(Boolean)
        .join('; ');
      await tx.query(`UPDATE recording_gaps SET started_at = $2, ended_at = $3, detail = $4 WHERE id = $1`, [
        first!.id,
        from ?? first!.started_at,
        to,
        details || null,
      ]);
      if (rest.length)
        await tx.query(`DELETE FROM recording_gaps WHERE id = ANY($1)`, [rest.map((g) => g.id)]);
      return;
    }
    if (!hole) return;
    const closed = await tx.query<GapRow>(
      `SELECT * FROM recording_gaps WHERE camera_id = $1 AND ended_at > $2 AND started_at < $3 ORDER BY started_at`,
      [cameraId, from, to],
    );
    for (const [a, b] of uncovered(from!.getTime(), to.getTime(), closed)) {
      if (b - a <= CONTIGUITY_TOLERANCE_MS) continue;
      await tx.query(
        `INSERT INTO recording_gaps (id, camera_id, started_at, ended_at, reason, detail) VALUES ($1, $2, $3, $4, 'interrupted', $5)`,
        [newId(), cameraId, new Date(a), new Date(b), 'no footage and no known cause (service interrupted)'],
      );
    }
  }

  /** Opens a gap from `at` (closed when the camera's next segment is indexed). */
  async openGap(cameraId: string, at: Date, reason: GapReason, detail?: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await lockCamera(tx, cameraId);
      const [exists] = await tx.query(
        `SELECT 1 FROM recording_gaps WHERE camera_id = $1 AND ended_at IS NULL AND reason = $2`,
        [cameraId, reason],
      );
      if (exists) return;
      await tx.query(
        `INSERT INTO recording_gaps (id, camera_id, started_at, ended_at, reason, detail) VALUES ($1, $2, $3, NULL, $4, $5)`,
        [newId(), cameraId, at, reason, detail ?? null],
      );
    });
  }

  /** A closed gap for a known span (footage discarded as corrupt or for lack of space). */
  async addGap(cameraId: string, from: Date, to: Date, reason: GapReason, detail?: string): Promise<void> {
    if (to.getTime() <= from.getTime()) return;
    await this.db.query(
      `INSERT INTO recording_gaps (id, camera_id, started_at, ended_at, reason, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
      [newId(), cameraId, from, to, reason, detail ?? null],
    );
  }

  async gaps(cameraId: string, from: Date, to: Date): Promise<GapRow[]> {
    return this.db.query<GapRow>(
      `SELECT * FROM recording_gaps WHERE camera_id = $1 AND started_at < $3 AND (ended_at IS NULL OR ended_at > $2)
       ORDER BY started_at`,
      [cameraId, from, to],
    );
  }

  /** Segments of a camera overlapping [from, to), in order. */
  async range(cameraId: string, from: Date, to: Date, limit = 10_000): Promise<SegmentRow[]> {
    return this.db.query<SegmentRow>(
      `SELECT * FROM segments WHERE camera_id = $1 AND ended_at > $2 AND started_at < $3 ORDER BY started_at LIMIT $4`,
      [cameraId, from, to, limit],
    );
  }

  now(): Date {
    return this.clock.now();
  }
}

/** Parts of [from, to) no gap covers. */
export function uncovered(
  from: number,
  to: number,
  gaps: { started_at: Date; ended_at: Date | null }[],
): [number, number][] {
  const out: [number, number][] = [];
  let cursor = from;
  for (const g of [...gaps].sort((a, b) => a.started_at.getTime() - b.started_at.getTime())) {
    const gs = g.started_at.getTime();
    const ge = g.ended_at ? g.ended_at.getTime() : to;
    if (ge <= cursor) continue;
    if (gs > cursor) out.push([cursor, Math.min(gs, to)]);
    cursor = Math.max(cursor, ge);
    if (cursor >= to) break;
  }
  if (cursor < to) out.push([cursor, to]);
  return out;
}

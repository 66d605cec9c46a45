import type { Db } from '../platform/db.js';

/*
 * What other modules may know about stored footage, answered by recording (the owner of `segments`
 * and `recording_gaps`): batches read the footage of their sessions and check hash chains here.
 */

export interface StoredSegment {
  id: string;
  cameraId: string;
  startedAt: Date;
  endedAt: Date;
  bytes: number;
  sha256: string;
  prevSha256: string | null;
  objectKey: string;
}

/** A recorded span without footage, with its reason; `endedAt` null while still open. */
export interface RecordedGap {
  cameraId: string;
  startedAt: Date;
  endedAt: Date | null;
  reason: string;
  detail: string | null;
}

/** A segment's stored predecessor on its camera's hash chain. */
export interface ChainLink {
  prevId: string;
  prevSha256: string;
}

export class SegmentRepository {
  constructor(private readonly db: Db) {}

  /**
   * Segments of these cameras overlapping [from, to), each camera's in order. `startedAfter` bounds
   * started_at from below (from minus the longest segment), so the query stays an index range scan.
   */
  overlapping(cameraIds: string[], from: Date, to: Date, startedAfter: Date): Promise<StoredSegment[]> {
    return this.db.query<StoredSegment>(
      `SELECT id, camera_id AS "cameraId", started_at AS "startedAt", ended_at AS "endedAt", bytes, sha256,
         prev_sha256 AS "prevSha256", object_key AS "objectKey" FROM segments
       WHERE camera_id = ANY($1) AND started_at < $3 AND started_at > $4 AND ended_at > $2
       ORDER BY camera_id, started_at, id`,
      [cameraIds, from, to, startedAfter],
    );
  }

  /** Recorded gaps of these cameras overlapping [from, to), oldest first. */
  gapsOverlapping(cameraIds: string[], from: Date, to: Date): Promise<RecordedGap[]> {
    return this.db.query<RecordedGap>(
      `SELECT camera_id AS "cameraId", started_at AS "startedAt", ended_at AS "endedAt", reason, detail
       FROM recording_gaps WHERE camera_id = ANY($1) AND started_at < $3 AND (ended_at IS NULL OR ended_at > $2)
       ORDER BY started_at`,
      [cameraIds, from, to],
    );
  }

  /** Each segment's stored predecessor (the camera's previous segment); segments without one are absent. */
  async chainLinks(segmentIds: string[]): Promise<Map<string, ChainLink>> {
    const rows = await this.db.query<{ id: string; prev_id: string; prev_sha256: string }>(
      `SELECT s.id, p.id AS prev_id, p.sha256 AS prev_sha256 FROM segments s
       JOIN LATERAL (SELECT id, sha256 FROM segments p WHERE p.camera_id = s.camera_id AND p.started_at < s.started_at
                     ORDER BY p.started_at DESC LIMIT 1) p ON true
       WHERE s.id = ANY($1)`,
      [segmentIds],
    );
    return new Map(rows.map((r) => [r.id, { prevId: r.prev_id, prevSha256: r.prev_sha256 }]));
  }
}

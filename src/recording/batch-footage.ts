import type { Queryable } from '../platform/db.js';
import { clip, subtract, union, type Span } from './batch-spans.js';

/** A session as footage sees it: a site (and maybe zones) over a time window. */
export interface SessionWindow {
  sessionId: string;
  siteId: string;
  zoneIds: string[] | null;
  startsAt: Date;
  endsAt: Date;
}

export interface FootageSegment {
  id: string;
  cameraId: string;
  startedAt: Date;
  endedAt: Date;
  bytes: number;
  sha256: string;
  prevSha256: string | null;
  objectKey: string;
}

export interface FootageGap {
  from: Date;
  to: Date;
  reason: string;
  detail: string | null;
}

export interface ZoneAssignment {
  zoneId: string;
  from: Date;
  to: Date | null;
}

export interface CameraFootage {
  cameraId: string;
  name: string;
  removedAt: Date | null;
  /** Zones the camera was assigned to at some time within the window. */
  zoneIds: string[];
  assignments: ZoneAssignment[];
  /** Segments overlapping the window, whole (not cut). */
  segments: FootageSegment[];
  /** Recorded gaps cut to the window, plus spans nothing explains (reason 'unexplained'). */
  gaps: FootageGap[];
}

export interface SessionFootage {
  session: SessionWindow;
  /** The session widened by the margin, cut to now. */
  window: Span;
  cameras: CameraFootage[];
}

/**
 * Recorder timestamps of back-to-back segments can differ by a few milliseconds; smaller holes than
 * this are continuity, not gaps.
 */
export const JOIN_TOLERANCE_MS = 500;
/**
 * No segment is longer than this (SEGMENT_SECONDS is at most 600 s), so an overlap query can bound
 * started_at from below and stay an index range scan on (camera_id, started_at).
 */
export const MAX_SEGMENT_MS = 3600_000;

/** Spans closer than the tolerance merged, so rounding between segments does not count as a gap. */
export function bridge(spans: Span[], toleranceMs = JOIN_TOLERANCE_MS): Span[] {
  const out: Span[] = [];
  for (const s of union(spans)) {
    const last = out[out.length - 1];
    if (last && s.from - last.to < toleranceMs) last.to = Math.max(last.to, s.to);
    else out.push({ ...s });
  }
  return out;
}

const span = (from: Date, to: Date | null, openEnd: number): Span => ({
  from: from.getTime(),
  to: to ? to.getTime() : openEnd,
});

/** Unexplained holes: parts of the window covered by neither footage nor a recorded gap. */
export function unexplainedGaps(window: Span, segments: Span[], gaps: Span[]): Span[] {
  return subtract(window, [...bridge(segments), ...gaps]);
}

interface CameraRow {
  id: string;
  name: string;
  created_at: Date;
  deleted_at: Date | null;
}
interface SegmentRow {
  id: string;
  camera_id: string;
  started_at: Date;
  ended_at: Date;
  bytes: number;
  sha256: string;
  prev_sha256: string | null;
  object_key: string;
}
interface GapRow {
  camera_id: string;
  started_at: Date;
  ended_at: Date | null;
  reason: string;
  detail: string | null;
}
interface AssignmentRow {
  camera_id: string;
  zone_id: string;
  assigned_from: Date;
  assigned_to: Date | null;
}

/** Reads the footage of sessions: cameras (removed ones too), segments, and gaps with reasons. */
export class BatchFootage {
  constructor(
    private readonly db: Queryable,
    private readonly opts: { marginMinutes: number },
  ) {}

  async forSessions(sessions: SessionWindow[], now: Date): Promise<SessionFootage[]> {
    const out: SessionFootage[] = [];
    for (const s of sessions) out.push(await this.forSession(s, now));
    return out;
  }

  async forSession(session: SessionWindow, now: Date): Promise<SessionFootage> {
    const margin = this.opts.marginMinutes * 60_000;
    const window: Span = {
      from: session.startsAt.getTime() - margin,
      to: Math.min(session.endsAt.getTime() + margin, now.getTime()),
    };
    if (window.to <= window.from) return { session, window, cameras: [] };
    const from = new Date(window.from);
    const to = new Date(window.to);
    const cameras = await this.db.query<CameraRow>(
      `SELECT id, name, created_at, deleted_at FROM cameras
       WHERE site_id = $1 AND created_at < $3 AND (deleted_at IS NULL OR deleted_at > $2)
       ORDER BY created_at, id`,
      [session.siteId, from, to],
    );
    const ids = cameras.map((c) => c.id);
    if (ids.length === 0) return { session, window, cameras: [] };
    const [assignments, segments, gaps] = await Promise.all([
      this.db.query<AssignmentRow>(
        `SELECT camera_id, zone_id, assigned_from, assigned_to FROM camera_zones
         WHERE camera_id = ANY($1) AND assigned_from < $3 AND (assigned_to IS NULL OR assigned_to > $2)
         ORDER BY assigned_from`,
        [ids, from, to],
      ),
      this.db.query<SegmentRow>(
        `SELECT id, camera_id, started_at, ended_at, bytes, sha256, prev_sha256, object_key FROM segments
         WHERE camera_id = ANY($1) AND started_at < $3 AND started_at > $4 AND ended_at > $2
         ORDER BY camera_id, started_at, id`,
        [ids, from, to, new Date(window.from - MAX_SEGMENT_MS)],
      ),
      this.db.query<GapRow>(
        `SELECT camera_id, started_at, ended_at, reason, detail FROM recording_gaps
         WHERE camera_id = ANY($1) AND started_at < $3 AND (ended_at IS NULL OR ended_at > $2)
         ORDER BY started_at`,
        [ids, from, to],
      ),
    ]);
    const zoneFilter = session.zoneIds?.length ? new Set(session.zoneIds) : null;
    const result: CameraFootage[] = [];
    for (const cam of cameras) {
      const own = assignments
        .filter((a) => a.camera_id === cam.id)
        .map((a) => ({ zoneId: a.zone_id, from: a.assigned_from, to: a.assigned_to }));
      const zoneIds = [...new Set(own.map((a) => a.zoneId))].sort();
      if (zoneFilter && !zoneIds.some((z) => zoneFilter.has(z))) continue;
      // The camera only owes footage while it existed.
      const life: Span = {
        from: Math.max(window.from, cam.created_at.getTime()),
        to: Math.min(window.to, cam.deleted_at?.getTime() ?? Infinity),
      };
      const segs = segments
        .filter((r) => r.camera_id === cam.id)
        .map((r) => ({
          id: r.id,
          cameraId: r.camera_id,
          startedAt: r.started_at,
          endedAt: r.ended_at,
          bytes: r.bytes,
          sha256: r.sha256,
          prevSha256: r.prev_sha256,
          objectKey: r.object_key,
        }));
      const recorded = gaps
        .filter((g) => g.camera_id === cam.id)
        .map((g) => ({ s: span(g.started_at, g.ended_at, window.to), reason: g.reason, detail: g.detail }))
        .flatMap((g) => clip([g.s], window).map((s) => ({ s, reason: g.reason, detail: g.detail })));
      const holes =
        life.to > life.from
          ? unexplainedGaps(
              life,
              segs.map((x) => span(x.startedAt, x.endedAt, window.to)),
              recorded.map((g) => g.s),
            )
          : [];
      const allGaps: FootageGap[] = [
        ...recorded.map((g) => ({
          from: new Date(g.s.from),
          to: new Date(g.s.to),
          reason: g.reason,
          detail: g.detail,
        })),
        ...holes.map((h) => ({
          from: new Date(h.from),
          to: new Date(h.to),
          reason: 'unexplained',
          detail: null,
        })),
      ].sort((a, b) => a.from.getTime() - b.from.getTime());
      result.push({
        cameraId: cam.id,
        name: cam.name,
        removedAt: cam.deleted_at,
        zoneIds,
        assignments: own,
        segments: segs,
        gaps: allGaps,
      });
    }
    return { session, window, cameras: result };
  }
}

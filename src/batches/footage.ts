import type { CameraRepository } from '../ingest/camera-repository.js';
import type { SegmentRepository, StoredSegment } from '../recording/segment-repository.js';
import type { CoverageRepository } from '../sites/coverage-repository.js';
import { clip, subtract, union, type Span } from './spans.js';

/** A session as footage sees it: a site (and maybe zones) over a time window. */
export interface SessionWindow {
  sessionId: string;
  siteId: string;
  zoneIds: string[] | null;
  startsAt: Date;
  endsAt: Date;
}

/** A stored segment of a session's footage, as recording keeps it. */
export type FootageSegment = StoredSegment;

export interface FootageGap {
  from: Date;
  to: Date;
  reason: string;
  detail: string | null;
}

/** A segment as the API's batch recordings and the export manifest show it. */
export const segmentJson = (s: FootageSegment) => ({
  id: s.id,
  startedAt: s.startedAt.toISOString(),
  endedAt: s.endedAt.toISOString(),
  bytes: s.bytes,
  sha256: s.sha256,
  prevSha256: s.prevSha256,
});

/** A gap as the API's batch recordings and the export manifest show it. */
export const gapJson = (g: FootageGap) => ({
  from: g.from.toISOString(),
  to: g.to.toISOString(),
  reason: g.reason,
  detail: g.detail,
});

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

/** What footage needs of its owners: cameras (ingest), coverage (sites), segments and gaps (recording). */
export interface FootageSources {
  cameras: Pick<CameraRepository, 'atSiteDuring'>;
  coverage: Pick<CoverageRepository, 'during'>;
  segments: Pick<SegmentRepository, 'overlapping' | 'gapsOverlapping'>;
}

/** Reads the footage of sessions: cameras (removed ones too), segments, and gaps with reasons. */
export class BatchFootage {
  constructor(
    private readonly sources: FootageSources,
    private readonly opts: {
      marginMinutes: number;
      /**
       * While a window is still open, its last this-many ms are not judged: the segment being
       * written and its upload are not stored yet, and are no gap.
       */
      pendingMs?: number;
    },
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
    const cameras = await this.sources.cameras.atSiteDuring(session.siteId, from, to);
    const ids = cameras.map((c) => c.id);
    if (ids.length === 0) return { session, window, cameras: [] };
    const [assignments, segments, gaps] = await Promise.all([
      this.sources.coverage.during(ids, from, to),
      this.sources.segments.overlapping(ids, from, to, new Date(window.from - MAX_SEGMENT_MS)),
      this.sources.segments.gapsOverlapping(ids, from, to),
    ]);
    const zoneFilter = session.zoneIds?.length ? new Set(session.zoneIds) : null;
    const result: CameraFootage[] = [];
    for (const cam of cameras) {
      const own = assignments
        .filter((a) => a.cameraId === cam.id)
        .map((a) => ({ zoneId: a.zoneId, from: a.from, to: a.to }));
      const zoneIds = [...new Set(own.map((a) => a.zoneId))].sort();
      if (zoneFilter && !zoneIds.some((z) => zoneFilter.has(z))) continue;
      // The camera only owes footage while it existed.
      const life: Span = {
        from: Math.max(window.from, cam.createdAt.getTime()),
        to: Math.min(window.to, cam.deletedAt?.getTime() ?? Infinity),
      };
      const segs: FootageSegment[] = segments.filter((r) => r.cameraId === cam.id);
      const recorded = gaps
        .filter((g) => g.cameraId === cam.id)
        .map((g) => ({ s: span(g.startedAt, g.endedAt, window.to), reason: g.reason, detail: g.detail }))
        .flatMap((g) => clip([g.s], window).map((s) => ({ s, reason: g.reason, detail: g.detail })));
      const judged: Span = {
        from: life.from,
        to: window.to === now.getTime() ? Math.min(life.to, window.to - (this.opts.pendingMs ?? 0)) : life.to,
      };
      const holes =
        judged.to > judged.from
          ? unexplainedGaps(
              judged,
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
        removedAt: cam.deletedAt,
        zoneIds,
        assignments: own,
        segments: segs,
        gaps: allGaps,
      });
    }
    return { session, window, cameras: result };
  }
}

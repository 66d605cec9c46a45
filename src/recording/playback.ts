import { PassThrough, type Readable } from 'node:stream';
import type { Actor } from '../access/actor.js';
import type { Tenancy } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CameraRepository } from '../ingest/camera-repository.js';
import type { Db } from '../platform/db.js';
import { invalidField, NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { ManagedProcess } from '../platform/processes.js';
import { concatScript, exportArgs, hlsSegmentArgs } from './ffmpeg-args.js';
import type { Ffmpeg } from './ffmpeg.js';
import type { ByteRange, FootageStore } from './footage-store.js';
import { CONTIGUITY_TOLERANCE_MS, type SegmentIndex, type SegmentRow } from './segment-index.js';

export interface RecordingView {
  id: string;
  cameraId: string;
  startedAt: string;
  endedAt: string;
  bytes: number;
  sha256: string;
}

export const recordingView = (r: SegmentRow): RecordingView => ({
  id: r.id,
  cameraId: r.camera_id,
  startedAt: r.started_at.toISOString(),
  endedAt: r.ended_at.toISOString(),
  bytes: r.bytes,
  sha256: r.sha256,
});

/**
 * Stored footage on its way to a client: status, headers and the body (null for none). The body
 * fails with an error when its source does (ffmpeg exits non-zero); destroying it releases the
 * source (the store's stream, or the ffmpeg producing it).
 */
export interface FootageReply {
  status: number;
  headers: Record<string, string>;
  body: Readable | null;
}

/** Longest span one playlist or export covers. */
const MAX_SPAN_MS = 24 * 3600_000;

/** A segment carries its camera's site and unit (copied when stored), so tenancy needs no camera join. */
const FOOTAGE_COLUMNS = { site: 's.site_id', unit: 's.unit_id' };

/** Parses one `bytes=` range against a size; null for no header, 'unsatisfiable' when out of bounds. */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Listing, byte-range playback, HLS and export of stored footage; every view audited. */
export class Playback {
  constructor(
    private readonly d: {
      db: Db;
      store: FootageStore;
      index: SegmentIndex;
      audit: AuditLog;
      ffmpeg: Ffmpeg;
      log: Logger;
      tenancy: Tenancy;
      cameras: Pick<CameraRepository, 'placement'>;
    },
  ) {}

  /** The camera (deleted ones included: their footage stays) if the actor may see its footage. */
  private async camera(actor: Actor, cameraId: string): Promise<{ id: string; unit_id: string }> {
    const cam = await this.d.cameras.placement(cameraId);
    if (!cam || !(await this.d.tenancy.mayWatch(actor, cam))) throw new NotFoundError('camera');
    return { id: cam.id, unit_id: cam.unitId };
  }

  async segment(actor: Actor, id: string): Promise<SegmentRow> {
    const scope = await this.d.tenancy.footageScope(actor, FOOTAGE_COLUMNS, 2);
    const [row] = await this.d.db.query<SegmentRow>(
      `SELECT s.* FROM segments s WHERE s.id = $1 AND ${scope.sql}`,
      [id, ...scope.params],
    );
    if (!row) throw new NotFoundError('recording');
    return row;
  }

  async list(
    actor: Actor,
    q: { cameraId?: string; from?: Date; to?: Date; limit?: number },
  ): Promise<{ items: RecordingView[] }> {
    const scope = await this.d.tenancy.footageScope(actor, FOOTAGE_COLUMNS, 5);
    const rows = await this.d.db.query<SegmentRow>(
      `SELECT s.* FROM segments s
       WHERE ($1::text IS NULL OR s.camera_id = $1) AND ($2::timestamptz IS NULL OR s.ended_at > $2)
         AND ($3::timestamptz IS NULL OR s.started_at < $3) AND ${scope.sql}
       ORDER BY s.started_at, s.id LIMIT $4`,
      [q.cameraId ?? null, q.from ?? null, q.to ?? null, q.limit ?? 1000, ...scope.params],
    );
    return { items: rows.map(recordingView) };
  }

  /** A stored segment, honouring one `Range` header; audited once per playback (not per range). */
  async content(actor: Actor, id: string, rangeHeader: string | undefined): Promise<FootageReply> {
    const seg = await this.segment(actor, id);
    const range = parseRange(rangeHeader, seg.bytes);
    if (range === 'unsatisfiable')
      return { status: 416, headers: { 'Content-Range': `bytes */${seg.bytes}` }, body: null };
    if (!range || range.start === 0) {
      await this.d.audit.record(actor, {
        action: 'recording.played',
        subjectType: 'recording',
        subjectId: seg.id,
        details: { cameraId: seg.camera_id, startedAt: seg.started_at.toISOString() },
      });
    }
    const body = await this.d.store.get(seg.object_key, range ?? undefined);
    const headers: Record<string, string> = {
      'Content-Type': 'video/mp4',
      'Accept-Ranges': 'bytes',
      ETag: `"${seg.sha256}"`,
    };
    if (!range) return { status: 200, headers: { ...headers, 'Content-Length': String(seg.bytes) }, body };
    return {
      status: 206,
      headers: {
        ...headers,
        'Content-Range': `bytes ${range.start}-${range.end}/${seg.bytes}`,
        'Content-Length': String(range.end! - range.start + 1),
      },
      body,
    };
  }

  private span(from: Date, to: Date): void {
    if (to <= from) throw invalidField('to', 'must be after from');
    if (to.getTime() - from.getTime() > MAX_SPAN_MS) throw invalidField('to', 'span is limited to 24 hours');
  }

  /** An HLS VOD playlist over the stored segments (MPEG-TS remuxed on request, on one timeline). */
  async playlist(actor: Actor, cameraId: string, from: Date, to: Date): Promise<string> {
    this.span(from, to);
    await this.camera(actor, cameraId);
    const segs = await this.d.index.range(cameraId, from, to);
    if (segs.length === 0) throw new NotFoundError('recordings in that span');
    await this.d.audit.record(actor, {
      action: 'recording.playback',
      subjectType: 'camera',
      subjectId: cameraId,
      details: { from: from.toISOString(), to: to.toISOString(), segments: segs.length },
    });
    return hlsPlaylist(segs);
  }

  /** One segment as MPEG-TS shifted to `offset` seconds, for the HLS playlist. */
  async hlsSegment(actor: Actor, id: string, offset: number): Promise<FootageReply> {
    const seg = await this.segment(actor, id);
    await this.d.audit.record(actor, {
      action: 'recording.played',
      subjectType: 'recording',
      subjectId: seg.id,
      details: { cameraId: seg.camera_id, format: 'hls' },
    });
    const url = await this.d.store.readUrl(seg.object_key, 600);
    const proc = this.d.ffmpeg.stream('ffmpeg:hls', hlsSegmentArgs(url, offset));
    proc.stdin.end();
    return { status: 200, headers: { 'Content-Type': 'video/mp2t' }, body: processOutput(proc, this.d.log) };
  }

  /** One MP4 of [from, to) by stream copy, cut at keyframes, streamed as ffmpeg produces it. */
  async export(actor: Actor, cameraId: string, from: Date, to: Date): Promise<FootageReply> {
    this.span(from, to);
    await this.camera(actor, cameraId);
    const segs = await this.d.index.range(cameraId, from, to);
    if (segs.length === 0) throw new NotFoundError('recordings in that span');
    const gaps = await this.d.index.gaps(cameraId, from, to);
    await this.d.audit.record(actor, {
      action: 'recording.exported',
      subjectType: 'camera',
      subjectId: cameraId,
      details: {
        from: from.toISOString(),
        to: to.toISOString(),
        segments: segs.map((s) => ({ id: s.id, sha256: s.sha256 })),
        gaps: gaps.length,
      },
    });
    const items = await Promise.all(
      segs.map(async (s, i) => ({
        url: await this.d.store.readUrl(s.object_key, 3600),
        inpoint:
          i === 0 && from > s.started_at ? (from.getTime() - s.started_at.getTime()) / 1000 : undefined,
        outpoint:
          i === segs.length - 1 && to < s.ended_at
            ? (to.getTime() - s.started_at.getTime()) / 1000
            : undefined,
      })),
    );
    const proc = this.d.ffmpeg.stream('ffmpeg:export', exportArgs());
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(concatScript(items));
    const name = `${cameraId}_${from.toISOString().replace(/[:.]/g, '')}.mp4`;
    return {
      status: 200,
      headers: {
        'Content-Type': 'video/mp4',
        'Content-Disposition': `attachment; filename="${name}"`,
        'X-Recording-Segments': String(segs.length),
        'X-Recording-Gaps': String(gaps.length),
      },
      body: processOutput(proc, this.d.log),
    };
  }
}

export function hlsPlaylist(segs: SegmentRow[]): string {
  const t0 = segs[0]!.started_at.getTime();
  const target = Math.ceil(
    Math.max(...segs.map((s) => (s.ended_at.getTime() - s.started_at.getTime()) / 1000)),
  );
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXT-X-TARGETDURATION:${target}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
  ];
  let prevEnd: number | null = null;
  for (const s of segs) {
    const start = s.started_at.getTime();
    if (prevEnd !== null && start - prevEnd > CONTIGUITY_TOLERANCE_MS) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${s.started_at.toISOString()}`);
    lines.push(`#EXTINF:${((s.ended_at.getTime() - start) / 1000).toFixed(3)},`);
    // Relative to the playlist URL (…/cameras/:id/playback.m3u8), so proxies and headers carry over.
    lines.push(`../../recordings/${s.id}/segment.ts?offset=${((start - t0) / 1000).toFixed(3)}`);
    prevEnd = s.ended_at.getTime();
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

/**
 * An ffmpeg's stdout as a body: it ends when ffmpeg exits cleanly and fails when ffmpeg exits
 * non-zero; destroying it (the client went away) stops ffmpeg at once.
 */
function processOutput(proc: ManagedProcess, log: Logger): Readable {
  const body = new PassThrough();
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  proc.stdout.pipe(body, { end: false });
  body.once('close', () => {
    if (proc.running) void proc.stop(0);
  });
  // 'close': exited and every pipe drained, so the body has all of ffmpeg's output.
  void proc.closed.then(async () => {
    const { code } = await proc.exited;
    if (code !== 0 && code !== null) {
      log.warn({ code, stderr: stderr.slice(0, 1000) }, 'ffmpeg for playback failed');
      body.destroy(new Error('playback failed'));
    } else body.end();
  });
  return body;
}

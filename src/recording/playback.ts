import type { Request, Response } from 'express';
import type { Actor } from '../access/actor.js';
import { siteScope } from '../access/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../platform/db.js';
import { invalidField, NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
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

/** Longest span one playlist or export covers. */
const MAX_SPAN_MS = 24 * 3600_000;

/**
 * Footage the actor may see: the camera's site in scope, and a confidential unit's footage only to
 * that unit's own users (never to platform viewers). Returns the SQL condition over `c` and `u`.
 */
function footageScope(actor: Actor, n: number): { sql: string; params: unknown[] } {
  const scope = siteScope(actor, 'c.site_id', 'c.unit_id', n);
  return {
    sql: `${scope.sql} AND (NOT u.confidential OR c.unit_id = $${n + scope.params.length})`,
    params: [...scope.params, actor.unitId ?? ''],
  };
}

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
    },
  ) {}

  /** The camera (deleted ones included: their footage stays) if the actor may see its footage. */
  private async camera(actor: Actor, cameraId: string): Promise<{ id: string; unit_id: string }> {
    const scope = footageScope(actor, 2);
    const [cam] = await this.d.db.query<{ id: string; unit_id: string }>(
      `SELECT c.id, c.unit_id FROM cameras c JOIN units u ON u.id = c.unit_id WHERE c.id = $1 AND ${scope.sql}`,
      [cameraId, ...scope.params],
    );
    if (!cam) throw new NotFoundError('camera');
    return cam;
  }

  async segment(actor: Actor, id: string): Promise<SegmentRow> {
    const scope = footageScope(actor, 2);
    const [row] = await this.d.db.query<SegmentRow>(
      `SELECT s.* FROM segments s JOIN cameras c ON c.id = s.camera_id JOIN units u ON u.id = c.unit_id
       WHERE s.id = $1 AND ${scope.sql}`,
      [id, ...scope.params],
    );
    if (!row) throw new NotFoundError('recording');
    return row;
  }

  async list(
    actor: Actor,
    q: { cameraId?: string; from?: Date; to?: Date; limit?: number },
  ): Promise<{ items: RecordingView[] }> {
    const scope = footageScope(actor, 5);
    const rows = await this.d.db.query<SegmentRow>(
      `SELECT s.* FROM segments s JOIN cameras c ON c.id = s.camera_id JOIN units u ON u.id = c.unit_id
       WHERE ($1::text IS NULL OR s.camera_id = $1) AND ($2::timestamptz IS NULL OR s.ended_at > $2)
         AND ($3::timestamptz IS NULL OR s.started_at < $3) AND ${scope.sql}
       ORDER BY s.started_at, s.id LIMIT $4`,
      [q.cameraId ?? null, q.from ?? null, q.to ?? null, q.limit ?? 1000, ...scope.params],
    );
    return { items: rows.map(recordingView) };
  }

  /** Streams a stored segment, honouring one Range; audited once per playback (not per range). */
  async content(actor: Actor, id: string, req: Request, res: Response): Promise<void> {
    const seg = await this.segment(actor, id);
    const range = parseRange(req.headers.range, seg.bytes);
    if (range === 'unsatisfiable') {
      res.status(416).setHeader('Content-Range', `bytes */${seg.bytes}`);
      res.end();
      return;
    }
    if (!range || range.start === 0) {
      await this.d.audit.record(actor, {
        action: 'recording.played',
        subjectType: 'recording',
        subjectId: seg.id,
        details: { cameraId: seg.camera_id, startedAt: seg.started_at.toISOString() },
      });
    }
    const body = await this.d.store.get(seg.object_key, range ?? undefined);
    res.setHeader('Content-Type', 'video/mp4');
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('ETag', `"${seg.sha256}"`);
    if (range) {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${seg.bytes}`);
      res.setHeader('Content-Length', String(range.end! - range.start + 1));
    } else {
      res.status(200);
      res.setHeader('Content-Length', String(seg.bytes));
    }
    await pipeToResponse(body, res);
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
  async hlsSegment(actor: Actor, id: string, offset: number, res: Response): Promise<void> {
    const seg = await this.segment(actor, id);
    await this.d.audit.record(actor, {
      action: 'recording.played',
      subjectType: 'recording',
      subjectId: seg.id,
      details: { cameraId: seg.camera_id, format: 'hls' },
    });
    const url = await this.d.store.readUrl(seg.object_key, 600);
    const child = this.d.ffmpeg.stream(hlsSegmentArgs(url, offset));
    child.stdin!.end();
    res.status(200).setHeader('Content-Type', 'video/mp2t');
    await pipeProcess(child, res, this.d.log);
  }

  /** One MP4 of [from, to) by stream copy, cut at keyframes, streamed as ffmpeg produces it. */
  async export(actor: Actor, cameraId: string, from: Date, to: Date, res: Response): Promise<void> {
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
    const child = this.d.ffmpeg.stream(exportArgs());
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(concatScript(items));
    const name = `${cameraId}_${from.toISOString().replace(/[:.]/g, '')}.mp4`;
    res.status(200);
    res.setHeader('Content-Type', 'video/mp4');
    res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    res.setHeader('X-Recording-Segments', String(segs.length));
    res.setHeader('X-Recording-Gaps', String(gaps.length));
    await pipeProcess(child, res, this.d.log);
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

function pipeToResponse(
  body: NodeJS.ReadableStream & { destroy?: () => void },
  res: Response,
): Promise<void> {
  return new Promise((resolve) => {
    res.on('close', () => {
      body.destroy?.();
      resolve();
    });
    body.on('error', () => res.destroy());
    body.pipe(res);
  });
}

function pipeProcess(child: ReturnType<Ffmpeg['stream']>, res: Response, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    res.on('close', () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    child.stdout!.pipe(res);
    child.once('close', (code) => {
      if (code !== 0 && code !== null) {
        log.warn({ code, stderr: stderr.slice(0, 1000) }, 'ffmpeg for playback failed');
        if (!res.headersSent)
          res.status(500).json({ error: { code: 'internal', message: 'playback failed' } });
        else res.destroy();
      }
      resolve();
    });
  });
}

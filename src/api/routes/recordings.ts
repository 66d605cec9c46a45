import type { Response } from 'express';
import { z } from 'zod';
import { id, instant, text } from '../../platform/validation.js';
import type { FootageReply } from '../../recording/playback.js';
import type { HoldRow } from '../../recording/retention.js';
import { idParams, route } from '../route.js';
import type { Recording } from '../../recording/recording.js';

const recordingItem = z.object({
  id: z.string(),
  cameraId: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  bytes: z.number(),
  sha256: z.string(),
});
/** A span must not end before it starts (list, playlist and export alike). */
const ordered = (q: { from?: Date; to?: Date }, ctx: z.RefinementCtx) => {
  if (q.from instanceof Date && q.to instanceof Date && q.to.getTime() < q.from.getTime())
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
};
const listQuery = z
  .strictObject({
    cameraId: id.optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(5000).optional(),
  })
  .superRefine(ordered);
const spanQuery = z.strictObject({ from: instant, to: instant }).superRefine(ordered);
const segmentQuery = z.strictObject({ offset: z.coerce.number().min(0).max(86_400).default(0) });
const holdBody = z.strictObject({
  batchId: id.optional(),
  cameraId: id.optional(),
  from: instant.optional(),
  to: instant.optional(),
  reason: text(500),
});
const holdView = z.object({
  id: z.string(),
  batchId: z.string().nullable(),
  cameraId: z.string().nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  reason: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  releasedAt: z.string().nullable(),
});
const toHold = (h: HoldRow) => ({
  id: h.id,
  batchId: h.batch_id,
  cameraId: h.camera_id,
  from: h.from_at?.toISOString() ?? null,
  to: h.to_at?.toISOString() ?? null,
  reason: h.reason,
  createdBy: h.created_by,
  createdAt: h.created_at.toISOString(),
  releasedAt: h.released_at?.toISOString() ?? null,
});

/**
 * Writes footage to the response: status and headers, then the body as it streams. A body that fails
 * before anything was sent becomes a 500; after, the connection is cut. A client that goes away
 * destroys the body, which releases its source. Resolves when the response is over.
 */
function sendFootage(res: Response, reply: FootageReply): Promise<void> {
  res.status(reply.status);
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  const body = reply.body;
  if (!body) {
    res.end();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    res.on('close', () => {
      body.destroy();
      resolve();
    });
    body.on('error', () => {
      if (!res.headersSent) res.status(500).json({ error: { code: 'internal', message: 'playback failed' } });
      else res.destroy();
    });
    body.pipe(res);
  });
}

/** What these routes use. */
export interface RecordingRouteDeps {
  recording: Pick<Recording, 'playback' | 'retention'>;
}

export const recordingRoutes = (s: RecordingRouteDeps) => [
  route({
    method: 'get',
    path: '/recordings',
    summary: 'List recorded segments of a camera and span',
    tag: 'recordings',
    roles: 'any',
    query: listQuery,
    response: z.object({ items: z.array(recordingItem) }),
    handler: ({ actor, query }) => s.recording.playback.list(actor, query),
  }),
  route({
    method: 'get',
    path: '/recordings/:id/content',
    summary: 'Play a recorded segment (video/mp4, Range requests)',
    tag: 'recordings',
    roles: 'any',
    params: idParams,
    produces: 'video/mp4',
    handler: async ({ actor, params, req, res }) => {
      await sendFootage(res, await s.recording.playback.content(actor, params.id, req.headers.range));
      return undefined;
    },
  }),
  route({
    method: 'get',
    path: '/recordings/:id/segment.ts',
    summary: 'A recorded segment as MPEG-TS for HLS playback',
    tag: 'recordings',
    roles: 'any',
    params: idParams,
    query: segmentQuery,
    produces: 'video/mp2t',
    handler: async ({ actor, params, query, res }) => {
      await sendFootage(res, await s.recording.playback.hlsSegment(actor, params.id, query.offset));
      return undefined;
    },
  }),
  route({
    method: 'get',
    path: '/cameras/:id/playback.m3u8',
    summary: 'HLS VOD playlist over the stored segments of a span',
    tag: 'recordings',
    roles: 'any',
    params: idParams,
    query: spanQuery,
    produces: 'application/vnd.apple.mpegurl',
    handler: async ({ actor, params, query, res }) => {
      const body = await s.recording.playback.playlist(actor, params.id, query.from, query.to);
      res.status(200).type('application/vnd.apple.mpegurl').send(body);
      return undefined;
    },
  }),
  route({
    method: 'get',
    path: '/cameras/:id/export.mp4',
    summary: 'Export a span as one MP4 (stream copy, cut at keyframes)',
    tag: 'recordings',
    roles: 'any',
    params: idParams,
    query: spanQuery,
    produces: 'video/mp4',
    handler: async ({ actor, params, query, res }) => {
      await sendFootage(res, await s.recording.playback.export(actor, params.id, query.from, query.to));
      return undefined;
    },
  }),
  route({
    method: 'get',
    path: '/footage-holds',
    summary: 'List footage holds',
    tag: 'recordings',
    roles: ['admin', 'auditor'],
    query: z.strictObject({ active: z.enum(['true', 'false']).optional() }),
    response: z.object({ items: z.array(holdView) }),
    handler: async ({ query }) => ({
      items: (await s.recording.retention.holds({ active: query.active === 'true' })).map(toHold),
    }),
  }),
  route({
    method: 'post',
    path: '/footage-holds',
    summary: 'Place a hold on footage (batch or camera span) with a reason',
    tag: 'recordings',
    roles: ['admin'],
    body: holdBody,
    response: holdView,
    status: 201,
    handler: async ({ actor, body }) => toHold(await s.recording.retention.placeHold(actor, body)),
  }),
  route({
    method: 'post',
    path: '/footage-holds/:id/release',
    summary: 'Release a footage hold',
    tag: 'recordings',
    roles: ['admin'],
    params: idParams,
    response: holdView,
    handler: async ({ actor, params }) => toHold(await s.recording.retention.releaseHold(actor, params.id)),
  }),
];

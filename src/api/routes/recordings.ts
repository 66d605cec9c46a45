import { z } from 'zod';
import { id, instant, text } from '../../platform/validation.js';
import type { HoldRow } from '../../recording/retention.js';
import type { Services } from '../../services.js';
import { idParams, route } from '../route.js';

const recordingItem = z.object({
  id: z.string(),
  cameraId: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  bytes: z.number(),
  sha256: z.string(),
});
const listQuery = z.strictObject({
  cameraId: id.optional(),
  from: instant.optional(),
  to: instant.optional(),
  limit: z.coerce.number().int().min(1).max(5000).optional(),
});
const spanQuery = z.strictObject({ from: instant, to: instant });
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

export const recordingRoutes = (s: Services) => [
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
      await s.recording.playback.content(actor, params.id, req, res);
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
      await s.recording.playback.hlsSegment(actor, params.id, query.offset, res);
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
      await s.recording.playback.export(actor, params.id, query.from, query.to, res);
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

import { z } from 'zod';
import type { ValidationError } from '../platform/errors.js';
import { id, text } from '../platform/validation.js';
import { formatCameraUrl, hostProblem, parseCameraUrl, STREAM_SCHEMES } from './camera-address.js';

/**
 * rtsp://[user:pass@]host[:port]/path, checked by camera-address and rebuilt from its parts (so what
 * reaches ffmpeg is what was checked); credentials are split off and sealed when stored.
 */
export const rtspUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .transform((v, ctx) => {
    try {
      return formatCameraUrl(parseCameraUrl(v, STREAM_SCHEMES, { field: 'rtspUrl', from: 'operator' }), true);
    } catch (err) {
      const detail = (err as ValidationError).details?.[0]?.message ?? 'is not a camera address';
      ctx.addIssue({ code: 'custom', message: detail });
      return z.NEVER;
    }
  });

const onvifHost = z
  .string()
  .max(255, 'must be at most 255 characters')
  .superRefine((v, ctx) => {
    const problem = hostProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((v) => (v.startsWith('[') ? v.slice(1, -1) : v).toLowerCase());

/** Either a plain RTSP address or ONVIF onboarding, never both. */
export const cameraCreateBody = z
  .strictObject({
    siteId: id,
    name: text(200),
    rtspUrl: rtspUrl.optional(),
    onvif: z
      .strictObject({
        host: onvifHost,
        port: z.int().min(1).max(65535).optional(),
        username: text(128),
        password: z.string().max(256),
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (!c.rtspUrl === !c.onvif) {
      ctx.addIssue({
        code: 'custom',
        path: [c.rtspUrl ? 'onvif' : 'rtspUrl'],
        message: 'give exactly one of rtspUrl and onvif',
      });
    }
  });

export const cameraZonesBody = z.strictObject({ zoneIds: z.array(id).max(500) });

export const streamView = z.object({
  profile: z.string(),
  rtspUrl: z.string(),
  codec: z.string().nullable(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  fps: z.number().nullable(),
});

export const CAMERA_STATUSES = ['connecting', 'online', 'degraded', 'offline'] as const;

export const cameraView = z.object({
  id: z.string(),
  siteId: z.string(),
  unitId: z.string(),
  name: z.string(),
  source: z.enum(['rtsp', 'onvif']),
  rtspUrl: z.string(),
  onvif: z.object({ host: z.string(), port: z.number() }).nullable(),
  streams: z.array(streamView),
  status: z.enum(CAMERA_STATUSES),
  statusReason: z.string().nullable(),
  health: z.record(z.string(), z.unknown()),
  zoneIds: z.array(z.string()),
  createdAt: z.string(),
});

export type CameraCreate = z.infer<typeof cameraCreateBody>;
export type CameraView = z.infer<typeof cameraView>;
export type StreamInfo = z.infer<typeof streamView>;
export type CameraStatus = (typeof CAMERA_STATUSES)[number];

export const discoverBody = z.strictObject({
  timeoutMs: z.int().min(200).max(30_000).optional(),
});

export const discoveredView = z.object({
  xaddr: z.string(),
  endpoint: z.string(),
  name: z.string().nullable().optional(),
  hardware: z.string().nullable().optional(),
  location: z.string().nullable().optional(),
  scopes: z.array(z.string()),
});

export const referenceView = z.object({
  cameraId: z.string(),
  width: z.number(),
  height: z.number(),
  takenAt: z.string(),
  /** auto: taken by the service once the picture stayed healthy and still; operator: by someone. */
  source: z.enum(['auto', 'operator']),
});

import { z } from 'zod';
import { id, text } from '../platform/validation.js';

/** rtsp://[user:pass@]host[:port]/path — credentials are split off and sealed, never stored in the URL. */
export const rtspUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .superRefine((v, ctx) => {
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a URL like rtsp://host:554/path' });
      return;
    }
    if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:')
      ctx.addIssue({ code: 'custom', message: 'must use rtsp:// or rtsps://' });
    else if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'must name a host' });
  });

/** Either a plain RTSP address or ONVIF onboarding, never both. */
export const cameraCreateBody = z
  .strictObject({
    siteId: id,
    name: text(200),
    rtspUrl: rtspUrl.optional(),
    onvif: z
      .strictObject({
        host: text(255),
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
});

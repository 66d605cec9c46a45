/**
 * Device answers the `onvif` package hands back half-parsed (xml2js, tag names in lower camel case,
 * attributes under `$`, numbers and booleans converted): checked here, one schema per shape, before
 * anything else reads them.
 */
import { z } from 'zod';
import type { EncoderSettings } from './picture-watch.js';

const num = z.coerce.number().finite();

const encoderConfiguration = z.object({
  encoding: z.coerce.string(),
  resolution: z.object({ width: num, height: num }),
  rateControl: z
    .object({
      $: z
        .object({ ConstantBitRate: z.union([z.boolean(), z.enum(['true', 'false'])]).optional() })
        .optional(),
      frameRateLimit: num.optional(),
      bitrateLimit: num.optional(),
    })
    .optional(),
});

/** GetVideoEncoderConfiguration's Configuration as encoder settings; null when it is not one. */
export function parseEncoderConfiguration(raw: unknown): EncoderSettings | null {
  const r = encoderConfiguration.safeParse(raw);
  if (!r.success) return null;
  const c = r.data;
  const cbr = c.rateControl?.$?.ConstantBitRate;
  return {
    encoding: c.encoding,
    width: c.resolution.width,
    height: c.resolution.height,
    frameRateLimit: c.rateControl?.frameRateLimit ?? null,
    bitrateLimit: c.rateControl?.bitrateLimit ?? null,
    constantBitRate: cbr === undefined ? null : cbr === true || cbr === 'true',
  };
}

/** One SimpleItem, or several. */
const items = z
  .object({ $: z.object({ Name: z.string(), Value: z.unknown() }) })
  .array()
  .or(z.object({ $: z.object({ Name: z.string(), Value: z.unknown() }) }).transform((i) => [i]));

const notification = z.object({
  topic: z.union([z.string(), z.object({ _: z.string() }).transform((t) => t._)]),
  message: z.object({
    message: z.object({
      $: z.object({ UtcTime: z.unknown().optional(), PropertyOperation: z.string().optional() }).optional(),
      data: z.object({ simpleItem: items.optional() }).optional(),
    }),
  }),
});

/** One event message from a camera: its topic and whether the state it reports is on. */
export interface CameraNotification {
  /** Without the namespace prefix, e.g. RuleEngine/TamperDetector/Tamper. */
  topic: string;
  /** The first boolean data item (IsTamper, State, ...); null when the message carries none. */
  state: boolean | null;
  /** Initialized (the current state on subscribing), Changed or Deleted. */
  operation: string | null;
}

/** PullMessagesResponse's NotificationMessages; messages of other shapes are left out. */
export function parseNotifications(raw: unknown): CameraNotification[] {
  const list = (raw as { notificationMessage?: unknown } | null)?.notificationMessage;
  const messages = Array.isArray(list) ? list : list === undefined ? [] : [list];
  return messages.flatMap((m): CameraNotification[] => {
    const r = notification.safeParse(m);
    if (!r.success) return [];
    const msg = r.data.message.message;
    const value = (msg.data?.simpleItem ?? [])
      .map((i) => i.$.Value)
      .find((v) => v === true || v === false || v === 'true' || v === 'false');
    return [
      {
        topic: r.data.topic.replace(/^[\w-]+:/, ''),
        state: value === undefined ? null : value === true || value === 'true',
        operation: msg.$?.PropertyOperation ?? null,
      },
    ];
  });
}

import { z } from 'zod';
import { listQuery } from '../platform/pagination.js';
import type { CameraStatusEvent } from '../ingest/events.js';
import { id } from '../platform/validation.js';

export const ALERT_RULES = [
  'camera_offline',
  'camera_stalled',
  'camera_degraded',
  'picture_black',
  'picture_frozen',
  'picture_blurred',
  'picture_covered',
  'picture_moved',
  'clock_skew',
  'zone_not_covered',
  'storage_down',
  'storage_full',
  'upload_failing',
  'spool_pressure',
  'session_not_ready',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export type AlertSeverity = 'warning' | 'critical';
export type SubjectType = 'camera' | 'zone' | 'site' | 'batch' | 'service';

export const alertView = z.object({
  id: z.string(),
  rule: z.enum(ALERT_RULES),
  severity: z.enum(['warning', 'critical']),
  state: z.enum(ALERT_STATES),
  subject: z.object({
    type: z.enum(['camera', 'zone', 'site', 'batch', 'service']),
    id: z.string().nullable(),
  }),
  unitId: z.string().nullable(),
  siteId: z.string().nullable(),
  zoneId: z.string().nullable(),
  cameraId: z.string().nullable(),
  batchId: z.string().nullable(),
  /** How many times the condition occurred while this alert was unresolved (flapping folded). */
  occurrences: z.number().int(),
  detail: z.string().nullable(),
  openedAt: z.string(),
  lastSeenAt: z.string(),
  clearedAt: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
});
export type AlertView = z.infer<typeof alertView>;

export const alertsQuery = listQuery.extend({
  /** `unresolved` = open or acknowledged. */
  state: z.enum([...ALERT_STATES, 'unresolved']).optional(),
  siteId: id.optional(),
  batchId: id.optional(),
});
export type AlertsQuery = z.infer<typeof alertsQuery>;

/** Names and payloads of the events pushed to live clients (socket.io at /live). */
export interface LiveEventPayloads {
  'alert.opened': { alert: AlertView };
  'alert.updated': { alert: AlertView };
  'alert.resolved': { alert: AlertView };
  'camera.status': CameraStatusEvent;
}
export type LiveEventName = keyof LiveEventPayloads;
export const LIVE_EVENT_NAMES: LiveEventName[] = [
  'alert.opened',
  'alert.updated',
  'alert.resolved',
  'camera.status',
];

/** One event as a client receives it: the payload plus its place in the global sequence. */
export type LiveEvent<K extends LiveEventName = LiveEventName> = LiveEventPayloads[K] & {
  seq: number;
  name: K;
  at: string;
};

import { z } from 'zod';
import { creditCode, id, instant, occupationCode, text } from '../platform/validation.js';

export const unitCreateBody = z.strictObject({
  name: text(200),
  creditCode,
  kind: z.enum(['employer', 'third_party']),
  confidential: z.boolean().optional(),
  region: text(100).optional(),
});

export const unitView = z.object({
  id: z.string(),
  name: z.string(),
  creditCode: z.string(),
  kind: z.enum(['employer', 'third_party']),
  confidential: z.boolean(),
  region: z.string().nullable(),
  createdAt: z.string(),
});

export const zoneCreateBody = z.strictObject({ name: text(100) });

export const siteCreateBody = z.strictObject({
  unitId: id,
  name: text(200),
  address: text(500).optional(),
  zones: z
    .array(zoneCreateBody)
    .max(500)
    .default([])
    .superRefine((zones, ctx) => {
      const seen = new Set<string>();
      // Refinements run even when an element failed its own schema (it may be null or a string).
      zones.forEach((z, i) => {
        if (typeof z?.name !== 'string') return;
        if (seen.has(z.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'is used twice' });
        seen.add(z.name);
      });
    }),
});

export const zoneView = z.object({ id: z.string(), siteId: z.string(), name: z.string() });

export const coverageView = z.object({
  zoneId: z.string(),
  covered: z.boolean(),
  cameraIds: z.array(z.string()),
  healthyCameraIds: z.array(z.string()),
});

export const siteView = z.object({
  id: z.string(),
  unitId: z.string(),
  name: z.string(),
  address: z.string().nullable(),
  createdAt: z.string(),
  zones: z.array(zoneView),
});

/** Longest assessment session. */
export const MAX_SESSION_HOURS = 24;

export const sessionCreateBody = z
  .strictObject({
    siteId: id,
    zoneIds: z.array(id).max(500).optional(),
    startsAt: instant,
    endsAt: instant,
  })
  .superRefine((s, ctx) => {
    // Runs even when a time failed to parse; then that time's own error is the one to report.
    if (!(s.startsAt instanceof Date) || !(s.endsAt instanceof Date)) return;
    if (s.endsAt.getTime() <= s.startsAt.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
    }
    // A session protects its site's footage for years: an unbounded one would protect all of it.
    if (s.endsAt.getTime() - s.startsAt.getTime() > MAX_SESSION_HOURS * 3600_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['endsAt'],
        message: `must be at most ${MAX_SESSION_HOURS} h after startsAt`,
      });
    }
    for (const key of ['startsAt', 'endsAt'] as const) {
      const year = s[key].getUTCFullYear();
      if (year < 2000 || year >= 2100)
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be between the years 2000 and 2099' });
    }
  });

export const batchCreateBody = z.strictObject({
  code: text(64),
  unitId: id,
  occupationCode,
  level: z.int().min(1).max(5),
  sessions: z.array(sessionCreateBody).min(1, 'must list at least one session').max(500),
});

export const BATCH_STATUSES = ['planned', 'in_progress', 'completed', 'approved', 'rejected'] as const;

export const sessionView = z.object({
  id: z.string(),
  siteId: z.string(),
  zoneIds: z.array(z.string()).nullable(),
  startsAt: z.string(),
  endsAt: z.string(),
  supervisorIds: z.array(z.string()),
});

export const batchView = z.object({
  id: z.string(),
  code: z.string(),
  unitId: z.string(),
  occupationCode: z.string(),
  level: z.number(),
  status: z.enum(BATCH_STATUSES),
  statusReason: z.string().nullable(),
  createdAt: z.string(),
  sessions: z.array(sessionView),
});

export type UnitCreate = z.infer<typeof unitCreateBody>;
export type UnitView = z.infer<typeof unitView>;
export type SiteCreate = z.infer<typeof siteCreateBody>;
export type SiteView = z.infer<typeof siteView>;
export type CoverageView = z.infer<typeof coverageView>;
export type BatchCreate = z.infer<typeof batchCreateBody>;
export type BatchView = z.infer<typeof batchView>;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

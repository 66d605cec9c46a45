import { z } from 'zod';
import { id, instant, text } from '../platform/validation.js';
import { batchView } from '../sites/schemas.js';

const gap = z.object({ from: z.string(), to: z.string(), reason: z.string(), detail: z.string().nullable() });
const gapReason = z.object({
  cameraId: z.string().nullable(),
  reason: z.string(),
  detail: z.string().nullable(),
  from: z.string(),
  to: z.string(),
});

export const readinessView = z.object({
  sessionId: z.string(),
  startsAt: z.string(),
  checkedAt: z.string(),
  ready: z.boolean(),
  zones: z.array(
    z.object({
      zoneId: z.string(),
      name: z.string(),
      covered: z.boolean(),
      cameraIds: z.array(z.string()),
      healthyCameraIds: z.array(z.string()),
    }),
  ),
  cameras: z.array(
    z.object({
      cameraId: z.string(),
      name: z.string(),
      status: z.string(),
      picture: z.string(),
      clockSkewMs: z.number().nullable(),
      problems: z.array(z.string()),
    }),
  ),
  storage: z.object({ ok: z.boolean(), error: z.string().nullable() }),
  spool: z.object({ ok: z.boolean(), freeMb: z.number().nullable(), faults: z.array(z.string()) }),
  problems: z.array(z.string()),
});

export const batchDetail = batchView.extend({
  supervisors: z.array(
    z.object({
      id: z.string(),
      username: z.string(),
      kind: z.string().nullable(),
      sessionIds: z.array(z.string()),
    }),
  ),
  readiness: readinessView.nullable(),
});

export const recordingsView = z.object({
  batchId: z.string(),
  sessions: z.array(z.object({ sessionId: z.string(), from: z.string(), to: z.string() })),
  cameras: z.array(
    z.object({
      sessionId: z.string(),
      cameraId: z.string(),
      name: z.string(),
      removedAt: z.string().nullable(),
      zoneIds: z.array(z.string()),
      segments: z.array(
        z.object({
          id: z.string(),
          startedAt: z.string(),
          endedAt: z.string(),
          bytes: z.number(),
          sha256: z.string(),
          prevSha256: z.string().nullable(),
        }),
      ),
      gaps: z.array(gap),
    }),
  ),
});

export const reportQuery = z.strictObject({ format: z.enum(['json', 'html']).default('json') });

export const reportView = z.object({
  batch: z.object({
    id: z.string(),
    code: z.string(),
    unitId: z.string(),
    unitName: z.string(),
    confidential: z.boolean(),
    occupationCode: z.string(),
    level: z.number(),
    status: z.string(),
    statusReason: z.string().nullable(),
  }),
  generatedAt: z.string(),
  sessions: z.array(
    z.object({
      sessionId: z.string(),
      siteId: z.string(),
      siteName: z.string(),
      startsAt: z.string(),
      endsAt: z.string(),
      evaluatedUntil: z.string(),
      zones: z.array(
        z.object({
          zoneId: z.string(),
          name: z.string(),
          totalSeconds: z.number(),
          coveredSeconds: z.number(),
          coverage: z.number(),
          cameraIds: z.array(z.string()),
          gaps: z.array(
            z.object({ from: z.string(), to: z.string(), seconds: z.number(), reasons: z.array(gapReason) }),
          ),
        }),
      ),
      incidents: z.array(gapReason),
      pictureFaults: z.array(gapReason),
      supervisors: z.array(
        z.object({
          userId: z.string(),
          username: z.string(),
          kind: z.string().nullable(),
          opinion: z.object({ text: z.string(), score: z.number(), filedAt: z.string() }).nullable(),
        }),
      ),
    }),
  ),
});

export const verificationView = z.object({
  ok: z.boolean(),
  checkedSegments: z.number(),
  problems: z.array(
    z.object({
      segmentId: z.string(),
      cameraId: z.string(),
      kind: z.enum(['missing', 'altered', 'chain_broken']),
      detail: z.string(),
    }),
  ),
});

export const rejectBody = z.strictObject({ reason: text(1000) });

export const dispatchBody = z.strictObject({
  seed: z.string().trim().min(1).max(200).optional(),
  perSession: z.int().min(1).max(10).optional(),
});

const drawSupervisor = z.object({ id: z.string(), kind: z.enum(['internal', 'external']).nullable() });

export const dispatchView = z.object({
  drawId: z.string(),
  seed: z.string(),
  perSession: z.number(),
  sessions: z.array(
    z.object({
      sessionId: z.string(),
      supervisors: z.array(drawSupervisor.extend({ username: z.string() })),
      shortfall: z.number(),
    }),
  ),
});

export const drawRecordView = z.object({
  id: z.string(),
  batchId: z.string(),
  seed: z.string(),
  perSession: z.number(),
  inputs: z.record(z.string(), z.unknown()),
  assignments: z.array(
    z.object({ sessionId: z.string(), supervisors: z.array(drawSupervisor), shortfall: z.number() }),
  ),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  replayMatches: z.boolean(),
});

export const opinionBody = z.strictObject({
  sessionId: id,
  text: text(10_000),
  score: z.int().min(0).max(100),
});
export const opinionView = z.object({
  sessionId: z.string(),
  userId: z.string(),
  text: z.string(),
  score: z.number(),
  filedAt: z.string(),
});

export const exportRequested = z.object({ exportId: z.string() });
export const exportView = z.object({
  id: z.string(),
  batchId: z.string(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  progress: z.number(),
  requestedAt: z.string(),
  finishedAt: z.string().nullable(),
  bytes: z.number().nullable(),
  error: z.string().nullable(),
  downloadUrl: z.string().optional(),
  manifest: z.record(z.string(), z.unknown()).optional(),
});

export const signingKeyView = z.object({
  algorithm: z.literal('Ed25519'),
  publicKeyPem: z.string(),
  fingerprint: z.string(),
});

export const spotCheckBody = z
  .strictObject({
    count: z.int().min(1).max(100),
    from: instant.optional(),
    to: instant.optional(),
    seed: z.string().trim().min(1).max(200).optional(),
    spanMinutes: z
      .int()
      .min(1)
      .max(24 * 60)
      .optional(),
  })
  .superRefine((b, ctx) => {
    // Runs even when a time failed to parse (then it is still a string): that error is reported.
    if (b.from instanceof Date && b.to instanceof Date && b.from.getTime() >= b.to.getTime())
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });

const spotPick = z.object({ batchId: z.string(), sessionId: z.string(), from: z.string(), to: z.string() });
export const spotCheckView = z.object({
  id: z.string(),
  seed: z.string(),
  params: z.object({ count: z.number(), from: z.string(), to: z.string(), spanMinutes: z.number() }),
  candidates: z.array(
    z.object({
      batchId: z.string(),
      sessions: z.array(z.object({ id: z.string(), from: z.number(), to: z.number() })),
    }),
  ),
  picks: z.array(spotPick),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  replayMatches: z.boolean(),
});

export type Readiness = z.infer<typeof readinessView>;
export type CameraReadiness = Readiness['cameras'][number];
export type RecordingsView = z.infer<typeof recordingsView>;
export type OpinionView = z.infer<typeof opinionView>;

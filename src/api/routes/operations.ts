import { z } from 'zod';
import { route } from '../route.js';
import type { AuditLog } from '../../audit/audit-log.js';

const auditQuery = z.strictObject({
  subject: z.string().max(200).optional(),
  actor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.coerce.number().int().min(0).optional(),
  /** `desc`: newest first, the cursor continuing to older records. */
  order: z.enum(['asc', 'desc']).default('asc'),
});

const auditRecord = z.object({
  seq: z.number(),
  at: z.string(),
  actorId: z.string().nullable(),
  actorName: z.string().nullable(),
  action: z.string(),
  subjectType: z.string(),
  subjectId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

const auditVerification = z.object({
  ok: z.boolean(),
  checked: z.number(),
  problems: z.array(
    z.object({ seq: z.number(), kind: z.enum(['altered', 'missing', 'chain_broken']), message: z.string() }),
  ),
});

/** What these routes use. */
export interface OperationRouteDeps {
  audit: AuditLog;
}

export const operationRoutes = (s: OperationRouteDeps) => [
  route({
    method: 'get',
    path: '/audit',
    summary: 'Read the audit log',
    tag: 'audit',
    roles: ['admin', 'auditor'],
    query: auditQuery,
    response: z.object({ items: z.array(auditRecord), nextCursor: z.string().nullable() }),
    handler: async ({ query }) => {
      const items = await s.audit.list({
        subject: query.subject,
        actor: query.actor,
        afterSeq: query.cursor,
        limit: query.limit,
        newestFirst: query.order === 'desc',
      });
      const last = items[items.length - 1];
      return { items, nextCursor: items.length === query.limit && last ? String(last.seq) : null };
    },
  }),
  route({
    method: 'post',
    path: '/audit/verify',
    summary: 'Verify the audit hash chain',
    tag: 'audit',
    roles: ['admin', 'auditor'],
    response: auditVerification,
    handler: () => s.audit.verify(),
  }),
];

import { z } from 'zod';
import { id, text } from '../platform/validation.js';
import { ROLES } from './actor.js';

export const loginBody = z.strictObject({
  username: text(64),
  password: z.string().min(1, 'must not be empty').max(256),
});

export const userCreateBody = z
  .strictObject({
    username: text(64).regex(
      /^[A-Za-z0-9._-]+$/,
      'may contain only letters, digits, dot, underscore and dash',
    ),
    password: z.string().min(8, 'must be at least 8 characters').max(256),
    role: z.enum(ROLES),
    unitId: id.optional(),
    supervisorKind: z.enum(['internal', 'external']).optional(),
  })
  .superRefine((u, ctx) => {
    if (u.role === 'unit_operator' && !u.unitId) {
      ctx.addIssue({ code: 'custom', path: ['unitId'], message: 'is required for a unit_operator' });
    }
    if (u.role !== 'unit_operator' && u.role !== 'supervisor' && u.unitId) {
      ctx.addIssue({ code: 'custom', path: ['unitId'], message: `must not be set for role ${u.role}` });
    }
    if (u.role !== 'supervisor' && u.supervisorKind) {
      ctx.addIssue({ code: 'custom', path: ['supervisorKind'], message: 'is only for supervisors' });
    }
  });

export const userView = z.object({
  id: z.string(),
  username: z.string(),
  role: z.enum(ROLES),
  unitId: z.string().nullable().optional(),
  supervisorKind: z.enum(['internal', 'external']).nullable().optional(),
});

export const loginResult = z.object({ token: z.string(), expiresAt: z.string(), user: userView });

export type UserCreate = z.infer<typeof userCreateBody>;
export type UserView = z.infer<typeof userView>;

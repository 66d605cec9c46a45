export const ROLES = ['admin', 'unit_operator', 'supervisor', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who is asking: every service call that touches tenant data takes one. */
export interface Actor {
  userId: string;
  username: string;
  role: Role;
  unitId: string | null;
}

/** The service itself (jobs, supervisors), for audit rows no person caused. */
export const systemActor: Actor = { userId: 'system', username: 'system', role: 'admin', unitId: null };

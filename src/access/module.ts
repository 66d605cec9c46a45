import type { AuditLog } from '../audit/audit-log.js';
import type { Platform } from '../platform/platform.js';
import { UserService, type UnitLookup } from './users.js';

export interface AccessModule {
  users: UserService;
}

/** Users, logins and tokens; the first administrator is made here when there is none. */
export async function createAccessModule(
  p: Pick<Platform, 'config' | 'log' | 'db' | 'clock' | 'redis' | 'keys'>,
  audit: AuditLog,
  /** Answered by sites: whether a unit exists. */
  units: UnitLookup,
): Promise<AccessModule> {
  const users = new UserService(
    p.db,
    audit,
    p.clock,
    p.redis,
    {
      tokenTtlHours: p.config.TOKEN_TTL_HOURS,
      maxFailures: p.config.LOGIN_MAX_FAILURES,
      blockSeconds: p.config.LOGIN_BLOCK_SECONDS,
      keys: p.keys,
    },
    units,
  );
  await users.bootstrapAdmin(p.config.ADMIN_PASSWORD, p.log);
  return { users };
}

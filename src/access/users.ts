import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db, Queryable } from '../platform/db.js';
import { ConflictError, invalidField, UnauthorizedError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { cursorCondition, toPage, type ListQuery, type Page } from '../platform/pagination.js';
import type { Logger } from '../platform/logger.js';
import type { RedisKeys } from '../platform/redis-keys.js';
import type { Actor, Role } from './actor.js';
import { LoginLimits } from './login-limits.js';
import { hashPassword, verifyPassword } from './password.js';
import { requireRole } from './policy.js';
import type { UserCreate, UserView } from './schemas.js';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  unit_id: string | null;
  supervisor_kind: SupervisorKind | null;
}

export type SupervisorKind = 'internal' | 'external';

const view = (u: UserRow): UserView => ({
  id: u.id,
  username: u.username,
  role: u.role,
  unitId: u.unit_id,
  supervisorKind: u.supervisor_kind,
});

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export interface UsersOptions {
  tokenTtlHours: number;
  maxFailures: number;
  blockSeconds: number;
  /** Keeps rate-limit counters of separate deployments (and test databases) on one Redis apart. */
  keys: RedisKeys;
}

/** Answered by sites (the owner of units). */
export interface UnitLookup {
  unitExists(unitId: string, q: Queryable): Promise<boolean>;
}

/** Users, password login, bearer tokens and the bootstrap admin. */
export class UserService {
  private readonly limits: LoginLimits;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    redis: Redis,
    private readonly opts: UsersOptions,
    private readonly units: UnitLookup,
  ) {
    this.limits = new LoginLimits(redis, {
      maxFailures: opts.maxFailures,
      blockSeconds: opts.blockSeconds,
      keys: opts.keys,
    });
  }

  /** Creates `admin` on first start; returns the generated password when none was configured. */
  async bootstrapAdmin(configured: string | undefined, log: Logger): Promise<void> {
    const [existing] = await this.db.query('SELECT id FROM users WHERE username = $1', ['admin']);
    if (existing) return;
    const password = configured ?? randomBytes(12).toString('base64url');
    await this.db.query(
      'INSERT INTO users (id, username, password_hash, role) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING',
      [newId(), 'admin', await hashPassword(password), 'admin'],
    );
    if (!configured) {
      // Printed once, on purpose outside the structured log, so it is not kept in log storage.
      process.stdout.write(
        `\nBootstrap user 'admin' created with password: ${password}\n(set ADMIN_PASSWORD to choose it)\n\n`,
      );
    }
    log.info('bootstrap admin user created');
  }

  async create(actor: Actor, input: UserCreate): Promise<UserView> {
    requireRole(actor, 'admin');
    const id = newId();
    const hash = await hashPassword(input.password);
    return this.db.transaction(async (tx) => {
      if (input.unitId && !(await this.units.unitExists(input.unitId, tx)))
        throw invalidField('unitId', 'no such unit');
      const [taken] = await tx.query('SELECT id FROM users WHERE username = $1', [input.username]);
      if (taken)
        throw new ConflictError(`username '${input.username}' is taken`, [
          { path: 'username', message: 'is taken' },
        ]);
      const [row] = await tx.query<UserRow>(
        `INSERT INTO users (id, username, password_hash, role, unit_id, supervisor_kind)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [
          id,
          input.username,
          hash,
          input.role,
          input.unitId ?? null,
          input.role === 'supervisor' ? (input.supervisorKind ?? 'external') : null,
        ],
      );
      await this.audit.record(
        actor,
        {
          action: 'user.create',
          subjectType: 'user',
          subjectId: id,
          details: { username: input.username, role: input.role },
        },
        tx,
      );
      return view(row!);
    });
  }

  async login(
    username: string,
    password: string,
    address: string,
  ): Promise<{ token: string; expiresAt: Date; user: UserView }> {
    const account = username.toLowerCase();
    await this.limits.check(account, address);
    const [user] = await this.db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
    // Hash even for unknown users so response time does not reveal which usernames exist.
    const ok = user
      ? await verifyPassword(password, user.password_hash)
      : (await hashPassword(password), false);
    if (!user || !ok) {
      await this.audit.record(null, {
        action: 'auth.login_failed',
        subjectType: 'user',
        subjectId: user?.id ?? null,
        details: { username, address },
      });
      await this.limits.failed(account, address);
      throw new UnauthorizedError('wrong username or password');
    }
    await this.limits.succeeded(account, address);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.clock.now().getTime() + this.opts.tokenTtlHours * 3600_000);
    await this.db.query('INSERT INTO auth_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [
      tokenHash(token),
      user.id,
      expiresAt,
    ]);
    await this.audit.record(
      { userId: user.id, username: user.username },
      {
        action: 'auth.login',
        subjectType: 'user',
        subjectId: user.id,
        details: { address },
      },
    );
    return { token, expiresAt, user: view(user) };
  }

  /** Every user, oldest first, a page at a time (administrators). */
  async list(q: ListQuery): Promise<Page<UserView>> {
    const after = cursorCondition(q, 1);
    const rows = await this.db.query<UserRow & { created_at: Date }>(
      `SELECT id, username, role, unit_id, supervisor_kind, created_at FROM users
       WHERE ${after.sql} ORDER BY created_at, id LIMIT ${q.limit + 1}`,
      after.params,
    );
    return toPage(rows, q, view);
  }

  /** These users' names and supervisor kinds, by username. */
  async namesOf(
    ids: string[],
  ): Promise<{ id: string; username: string; supervisorKind: SupervisorKind | null }[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query<UserRow>('SELECT * FROM users WHERE id = ANY($1) ORDER BY username', [
      ids,
    ]);
    return rows.map((u) => ({ id: u.id, username: u.username, supervisorKind: u.supervisor_kind }));
  }

  /** Supervisors who may be dispatched to a unit's batch (none of the unit's own), by id. */
  async supervisorPool(
    unitId: string,
    q: Queryable = this.db,
  ): Promise<{ id: string; username: string; supervisorKind: SupervisorKind | null }[]> {
    const rows = await q.query<UserRow>(
      `SELECT * FROM users WHERE role = 'supervisor' AND (unit_id IS NULL OR unit_id <> $1) ORDER BY id`,
      [unitId],
    );
    return rows.map((u) => ({ id: u.id, username: u.username, supervisorKind: u.supervisor_kind }));
  }

  /** The user as an actor, or null when there is no such user (any more). */
  async actorOf(userId: string): Promise<Actor | null> {
    const [u] = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1', [userId]);
    return u ? { userId: u.id, username: u.username, role: u.role, unitId: u.unit_id } : null;
  }

  /** The actor behind a bearer token, or 401. */
  async authenticate(token: string): Promise<Actor> {
    const [row] = await this.db.query<UserRow & { expires_at: Date }>(
      `SELECT u.*, t.expires_at FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`,
      [tokenHash(token)],
    );
    if (!row || row.expires_at.getTime() <= this.clock.now().getTime())
      throw new UnauthorizedError('token is invalid or expired');
    return { userId: row.id, username: row.username, role: row.role, unitId: row.unit_id };
  }
}

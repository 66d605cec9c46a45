import { createHash, randomBytes } from 'node:crypto';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import { ConflictError, invalidField, TooManyRequestsError, UnauthorizedError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import type { Logger } from '../platform/logger.js';
import type { Actor, Role } from './actor.js';
import { hashPassword, verifyPassword } from './password.js';
import { requireRole } from './scope.js';
import type { UserCreate, UserView } from './schemas.js';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  unit_id: string | null;
  supervisor_kind: 'internal' | 'external' | null;
}

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
  limiterPrefix: string;
}

/** Users, password login, bearer tokens and the bootstrap admin. */
export class UserService {
  private readonly perAccountAndAddress: RateLimiterRedis;
  private readonly perAccount: RateLimiterRedis;
  private readonly perAddress: RateLimiterRedis;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    redis: Redis,
    private readonly opts: UsersOptions,
  ) {
    const common = { storeClient: redis, duration: opts.blockSeconds, blockDuration: opts.blockSeconds };
    this.perAccountAndAddress = new RateLimiterRedis({
      ...common,
      keyPrefix: `${opts.limiterPrefix}:login:acct-addr`,
      points: opts.maxFailures,
    });
    // Guessing one account's password from many addresses is stopped too, with a looser limit.
    this.perAccount = new RateLimiterRedis({
      ...common,
      keyPrefix: `${opts.limiterPrefix}:login:acct`,
      points: opts.maxFailures * 4,
    });
    // An address guessing across many accounts is stopped too, with a looser limit.
    this.perAddress = new RateLimiterRedis({
      ...common,
      keyPrefix: `${opts.limiterPrefix}:login:addr`,
      points: opts.maxFailures * 10,
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
      if (input.unitId) {
        const [unit] = await tx.query('SELECT id FROM units WHERE id = $1', [input.unitId]);
        if (!unit) throw invalidField('unitId', 'no such unit');
      }
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
    const limits: [RateLimiterRedis, string][] = [
      [this.perAccountAndAddress, `${account}|${address}`],
      [this.perAccount, account],
      [this.perAddress, address],
    ];
    for (const [limiter, key] of limits) {
      const res = await limiter.get(key);
      if (res && res.remainingPoints <= 0) throw this.tooMany(res);
    }
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
      try {
        for (const [limiter, key] of limits) await limiter.consume(key);
      } catch (res) {
        if (res instanceof RateLimiterRes) throw this.tooMany(res);
        throw res;
      }
      throw new UnauthorizedError('wrong username or password');
    }
    await this.perAccountAndAddress.delete(`${account}|${address}`);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.clock.now().getTime() + this.opts.tokenTtlHours * 3600_000);
    await this.db.query('INSERT INTO auth_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)', [
      tokenHash(token),
      user.id,
      expiresAt,
    ]);
    await this.audit.record(
      { userId: user.id, username: user.username, role: user.role, unitId: user.unit_id },
      {
        action: 'auth.login',
        subjectType: 'user',
        subjectId: user.id,
        details: { address },
      },
    );
    return { token, expiresAt, user: view(user) };
  }

  private tooMany(res: RateLimiterRes): TooManyRequestsError {
    const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
    return new TooManyRequestsError(`too many failed logins; try again in ${seconds} s`, seconds);
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

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import pg from 'pg';
import { UnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import { migrations } from './migrations/index.js';

/** Anything that runs a parameterised SQL statement: the database or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** The metadata store: PostgreSQL over the network, or the embedded PGlite in DATA_DIR. */
export interface Db extends Queryable {
  readonly kind: 'postgres' | 'embedded';
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// Timestamps and bigints come back as Date and number on both backends.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

/** How long a statement waits for a free connection of the pool. */
const POOL_WAIT_MS = 5000;

/**
 * pg-pool's error when no connection frees up in time: the database is saturated, not broken, so
 * callers get a 503 with a retry hint instead of an internal error.
 */
function saturated(err: unknown): unknown {
  return err instanceof Error && err.message === 'timeout exceeded when trying to connect'
    ? new UnavailableError(`database busy: no free connection within ${POOL_WAIT_MS} ms`, 'database_busy', 1)
    : err;
}

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  constructor(private readonly pool: pg.Pool) {}

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query(sql, params)).rows as T[];
    } catch (err) {
      throw saturated(err);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((err: unknown) => Promise.reject(saturated(err)));
    try {
      await client.query('BEGIN');
      const result = await fn({
        query: async <R>(sql: string, params: unknown[] = []) =>
          (await client.query(sql, params)).rows as R[],
      });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  transaction<T>(
    fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }> }) => Promise<T>,
  ): Promise<T>;
  close(): Promise<void>;
}

class EmbeddedDb implements Db {
  readonly kind = 'embedded' as const;
  constructor(private readonly lite: PgliteLike) {}

  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.lite.query<T>(sql, params)).rows;
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.lite.transaction((tx) =>
      fn({ query: async <R>(sql: string, params: unknown[] = []) => (await tx.query<R>(sql, params)).rows }),
    );
  }

  close(): Promise<void> {
    return this.lite.close();
  }
}

/**
 * The same database for background writers (the segment index's transactions): at most `max` of
 * their statements and transactions at once, the rest wait in memory. A burst of cameras starting or
 * reconnecting together held every connection of the pool in open gap transactions while the event
 * loop was busy, and API requests got 503 (issue 11); requests now always keep the rest of the pool.
 * Camera status writes stay outside: single statements, and the status event waits for them.
 */
export function limitConcurrency(db: Db, max: number): Db {
  const limit = pLimit(max);
  return {
    kind: db.kind,
    query: (sql, params) => limit(() => db.query(sql, params)),
    transaction: (fn) => limit(() => db.transaction(fn)),
    close: () => db.close(),
  };
}

export interface DbOptions {
  databaseUrl?: string;
  schema: string;
  dataDir: string;
  poolSize: number;
}

/** Opens the configured database and brings its schema up to date. */
export async function openDb(opts: DbOptions, log: Logger): Promise<Db> {
  let db: Db;
  if (opts.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolSize,
      connectionTimeoutMillis: POOL_WAIT_MS,
      options: `-c search_path=${opts.schema}`,
    });
    pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'));
    db = new PostgresDb(pool);
    if (opts.schema !== 'public') await db.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
  } else {
    const dir = path.join(opts.dataDir, 'pgdata');
    await mkdir(dir, { recursive: true });
    const { PGlite } = await import('@electric-sql/pglite');
    db = new EmbeddedDb((await PGlite.create(dir)) as unknown as PgliteLike);
  }
  await migrate(db, log);
  return db;
}

/** Applies each migration not yet applied, in order, each in its own transaction. */
export async function migrate(db: Db, log: Logger): Promise<void> {
  await db.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied = new Set(
    (await db.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version),
  );
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    await db.transaction(async (tx) => {
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    });
    log.info({ version: m.version, name: m.name }, 'migration applied');
  }
}

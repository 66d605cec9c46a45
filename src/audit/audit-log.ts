import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../platform/db.js';
import type { Clock } from '../platform/clock.js';

export interface AuditEntry {
  action: string;
  subjectType: string;
  subjectId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actorId: string | null;
  actorName: string | null;
  action: string;
  subjectType: string;
  subjectId: string | null;
  details: Record<string, unknown>;
  hash: string;
}

interface AuditRow {
  seq: number;
  at: Date;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  subject_type: string;
  subject_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditProblem {
  seq: number;
  kind: 'altered' | 'missing' | 'chain_broken';
  message: string;
}

const GENESIS = '0'.repeat(64);
// Serialises appends across processes so the chain never forks.
const CHAIN_LOCK = 7_240_913;

/** JSON with sorted keys: jsonb does not keep key order, the hash must not depend on it. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value);
}

function rowHash(prevHash: string, r: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  const body = canonicalJson([
    r.seq,
    r.at.toISOString(),
    r.actor_id,
    r.actor_name,
    r.action,
    r.subject_type,
    r.subject_id,
    r.details,
  ]);
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

/** Who did it, as the log keeps it; an access Actor fits, so the log needs nothing from access. */
export interface AuditActor {
  userId: string;
  username: string;
}

/**
 * Append-only, hash-chained record of who did what to which object. Each row's hash covers the
 * previous row's hash, so an edited, removed or inserted row breaks the chain where it happened.
 */
export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Appends inside the caller's transaction when given one, so the audit row commits with the change. */
  async record(actor: AuditActor | null, entry: AuditEntry, tx?: Queryable): Promise<void> {
    const write = async (q: Queryable) => {
      await q.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
      const [last] = await q.query<{ seq: number; hash: string }>(
        'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
      );
      const row = {
        seq: (last?.seq ?? 0) + 1,
        at: new Date(Math.floor(this.clock.now().getTime())),
        actor_id: actor?.userId ?? null,
        actor_name: actor?.username ?? null,
        action: entry.action,
        subject_type: entry.subjectType,
        subject_id: entry.subjectId ?? null,
        details: JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>,
      };
      const prevHash = last?.hash ?? GENESIS;
      await q.query(
        `INSERT INTO audit_log (seq, at, actor_id, actor_name, action, subject_type, subject_id, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          row.seq,
          row.at,
          row.actor_id,
          row.actor_name,
          row.action,
          row.subject_type,
          row.subject_id,
          JSON.stringify(row.details),
          prevHash,
          rowHash(prevHash, row),
        ],
      );
    };
    if (tx) await write(tx);
    else await this.db.transaction(write);
  }

  async list(filter: {
    subject?: string;
    actor?: string;
    afterSeq?: number;
    limit: number;
    /** Newest first; `afterSeq` then continues below that seq. */
    newestFirst?: boolean;
  }): Promise<AuditRecord[]> {
    const desc = filter.newestFirst === true;
    const rows = await this.db.query<AuditRow>(
      `SELECT * FROM audit_log
       WHERE ($1::text IS NULL OR subject_id = $1) AND ($2::text IS NULL OR actor_id = $2 OR actor_name = $2)
         AND ${desc ? '($3::bigint = 0 OR seq < $3)' : 'seq > $3'}
       ORDER BY seq ${desc ? 'DESC' : ''} LIMIT $4`,
      [filter.subject ?? null, filter.actor ?? null, filter.afterSeq ?? 0, filter.limit],
    );
    return rows.map((r) => ({
      seq: r.seq,
      at: r.at.toISOString(),
      actorId: r.actor_id,
      actorName: r.actor_name,
      action: r.action,
      subjectType: r.subject_type,
      subjectId: r.subject_id,
      details: r.details,
      hash: r.hash,
    }));
  }

  /**
   * Walks the whole chain and names every row that was altered, removed or re-linked. The newest
   * row has no successor to vouch for it, so removing it alone is not detectable from the table.
   */
  async verify(): Promise<{ ok: boolean; checked: number; problems: AuditProblem[] }> {
    const problems: AuditProblem[] = [];
    let expectedSeq = 1;
    let prevHash = GENESIS;
    let checked = 0;
    for (let after = 0; ;) {
      const rows = await this.db.query<AuditRow>(
        'SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000',
        [after],
      );
      if (rows.length === 0) break;
      for (const r of rows) {
        checked++;
        const afterGap = expectedSeq < r.seq;
        for (; expectedSeq < r.seq; expectedSeq++) {
          problems.push({ seq: expectedSeq, kind: 'missing', message: `row ${expectedSeq} was removed` });
        }
        if (rowHash(r.prev_hash, r) !== r.hash) {
          problems.push({ seq: r.seq, kind: 'altered', message: `row ${r.seq} does not match its hash` });
        } else if (r.prev_hash !== prevHash && !afterGap) {
          // This row is intact but recorded another hash for its predecessor: the predecessor was
          // rewritten with a recomputed hash. Name that row, unless it is already named.
          const before = problems[problems.length - 1];
          if (r.seq > 1 && before?.seq !== r.seq - 1) {
            problems.push({
              seq: r.seq - 1,
              kind: 'altered',
              message: `row ${r.seq - 1} was rewritten: row ${r.seq} recorded a different hash for it`,
            });
          } else {
            problems.push({
              seq: r.seq,
              kind: 'chain_broken',
              message: `row ${r.seq} does not link to the row before it`,
            });
          }
        }
        prevHash = r.hash;
        expectedSeq = r.seq + 1;
        after = r.seq;
      }
    }
    return { ok: problems.length === 0, checked, problems };
  }
}

import type { Actor } from '../access/actor.js';
import { requireRole } from '../access/policy.js';
import { canonicalJson, type AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import { invalidField, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { newSeed, SeededRandom } from './random.js';

export interface SpotCandidate {
  batchId: string;
  sessions: { id: string; from: number; to: number }[];
}

export interface SpotPick {
  batchId: string;
  sessionId: string;
  from: string;
  to: string;
}

/**
 * Draws `count` batches without replacement (partial Fisher–Yates over candidates in id order),
 * then for each a session and a span of `spanMinutes` inside it, all from the seed.
 */
export function drawSpotChecks(
  seed: string,
  candidates: SpotCandidate[],
  count: number,
  spanMinutes: number,
): SpotPick[] {
  const rng = new SeededRandom(seed);
  const pool = [...candidates].sort((a, b) => a.batchId.localeCompare(b.batchId));
  const picks: SpotPick[] = [];
  for (let i = 0; i < Math.min(count, pool.length); i++) {
    const j = i + rng.index(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    const batch = pool[i]!;
    const session = rng.pick([...batch.sessions].sort((a, b) => a.from - b.from || a.id.localeCompare(b.id)));
    const span = Math.min(spanMinutes * 60_000, session.to - session.from);
    const slack = Math.floor((session.to - session.from - span) / 1000);
    const from = session.from + rng.index(slack + 1) * 1000;
    picks.push({
      batchId: batch.batchId,
      sessionId: session.id,
      from: new Date(from).toISOString(),
      to: new Date(from + span).toISOString(),
    });
  }
  return picks;
}

export interface SpotCheckInput {
  count: number;
  from?: Date;
  to?: Date;
  seed?: string;
  spanMinutes?: number;
}

export interface SpotCheckRecord {
  id: string;
  seed: string;
  params: { count: number; from: string; to: string; spanMinutes: number };
  candidates: SpotCandidate[];
  picks: SpotPick[];
  createdBy: string | null;
  createdAt: string;
  replayMatches: boolean;
}

/** "Double random" spot checks (双随机): batches and spans drawn for review, seed and pool recorded. */
export class SpotCheckService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async draw(actor: Actor, input: SpotCheckInput): Promise<SpotCheckRecord> {
    requireRole(actor, 'auditor', 'admin');
    const now = this.clock.now();
    const to = input.to ?? now;
    const from = input.from ?? new Date(to.getTime() - 90 * 86_400_000);
    if (from.getTime() >= to.getTime()) throw invalidField('from', 'must be before to');
    const spanMinutes = input.spanMinutes ?? 10;
    // Batches with a session in the period that has already started: there is footage to review.
    const rows = await this.db.query<{ batch_id: string; id: string; starts_at: Date; ends_at: Date }>(
      `SELECT s.batch_id, s.id, s.starts_at, s.ends_at FROM batch_sessions s
       WHERE s.starts_at < $2 AND s.ends_at > $1 AND s.starts_at < $3 ORDER BY s.batch_id, s.starts_at, s.id`,
      [from, to, now],
    );
    const byBatch = new Map<string, SpotCandidate>();
    for (const r of rows) {
      const c = byBatch.get(r.batch_id) ?? { batchId: r.batch_id, sessions: [] };
      c.sessions.push({
        id: r.id,
        from: r.starts_at.getTime(),
        to: Math.min(r.ends_at.getTime(), now.getTime()),
      });
      byBatch.set(r.batch_id, c);
    }
    const candidates = [...byBatch.values()];
    const seed = input.seed ?? newSeed();
    const picks = drawSpotChecks(seed, candidates, input.count, spanMinutes);
    const id = newId();
    const params = { count: input.count, from: from.toISOString(), to: to.toISOString(), spanMinutes };
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO spot_checks (id, seed, params, candidates, picks, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          id,
          seed,
          JSON.stringify(params),
          JSON.stringify(candidates),
          JSON.stringify(picks),
          actor.userId,
          now,
        ],
      );
      await this.audit.record(
        actor,
        {
          action: 'spot_check.draw',
          subjectType: 'spot_check',
          subjectId: id,
          details: { seed, ...params, candidates: candidates.length, batchIds: picks.map((p) => p.batchId) },
        },
        tx,
      );
    });
    return {
      id,
      seed,
      params,
      candidates,
      picks,
      createdBy: actor.userId,
      createdAt: now.toISOString(),
      replayMatches: true,
    };
  }

  async get(actor: Actor, id: string): Promise<SpotCheckRecord> {
    requireRole(actor, 'auditor', 'admin');
    const [r] = await this.db.query<{
      id: string;
      seed: string;
      params: SpotCheckRecord['params'];
      candidates: SpotCandidate[];
      picks: SpotPick[];
      created_by: string | null;
      created_at: Date;
    }>('SELECT * FROM spot_checks WHERE id = $1', [id]);
    if (!r) throw new NotFoundError('spot check');
    const replay = drawSpotChecks(r.seed, r.candidates, r.params.count, r.params.spanMinutes);
    return {
      id: r.id,
      seed: r.seed,
      params: r.params,
      candidates: r.candidates,
      picks: r.picks,
      createdBy: r.created_by,
      createdAt: r.created_at.toISOString(),
      // jsonb does not keep key order, so compare canonical forms.
      replayMatches: canonicalJson(replay) === canonicalJson(r.picks),
    };
  }
}

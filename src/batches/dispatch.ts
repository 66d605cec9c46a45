import type { Actor } from '../access/actor.js';
import { requireRole } from '../access/policy.js';
import type { UserService } from '../access/users.js';
import { canonicalJson, type AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import { ConflictError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { overlaps, type Span } from './spans.js';
import type { BatchService } from './batches.js';
import { newSeed, SeededRandom } from './random.js';

export type SupervisorKind = 'internal' | 'external';

export interface PoolMember {
  id: string;
  kind: SupervisorKind | null;
  /** Sessions assigned in the past year, so the draw spreads work. */
  load: number;
  /** Sessions of other batches the supervisor already has. */
  busy: Span[];
}

export interface DrawSession {
  id: string;
  from: number;
  to: number;
}

export interface DrawInputs {
  sessions: DrawSession[];
  pool: PoolMember[];
}

export interface SessionDraw {
  sessionId: string;
  supervisors: { id: string; kind: SupervisorKind | null }[];
  /** Seats left empty because no free supervisor was left. */
  shortfall: number;
}

/**
 * The draw itself, a pure function of seed and inputs: per session (in time order) first one
 * external supervisor when any is free, then internal ones (externals only when no internal is
 * free); each pick is uniform among the free candidates with the lowest load, and nobody sits in
 * two overlapping sessions.
 */
export function drawSupervisors(seed: string, inputs: DrawInputs, perSession: number): SessionDraw[] {
  const rng = new SeededRandom(seed);
  const pool = [...inputs.pool]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((p) => ({ ...p, busy: [...p.busy] }));
  const sessions = [...inputs.sessions].sort((a, b) => a.from - b.from || a.id.localeCompare(b.id));
  return sessions.map((s) => {
    const picked: typeof pool = [];
    const free = () => pool.filter((p) => !picked.includes(p) && !p.busy.some((b) => overlaps(b, s)));
    const pickFrom = (candidates: typeof pool) => {
      const least = Math.min(...candidates.map((c) => c.load));
      const chosen = rng.pick(candidates.filter((c) => c.load === least));
      chosen.load++;
      chosen.busy.push({ from: s.from, to: s.to });
      picked.push(chosen);
    };
    const externals = free().filter((p) => p.kind === 'external');
    if (perSession > 0 && externals.length > 0) pickFrom(externals);
    // The other seats go to non-external supervisors while any is free, keeping externals for other sessions.
    while (picked.length < perSession) {
      const candidates = free();
      if (candidates.length === 0) break;
      const others = candidates.filter((p) => p.kind !== 'external');
      pickFrom(others.length > 0 ? others : candidates);
    }
    return {
      sessionId: s.id,
      supervisors: picked.map((p) => ({ id: p.id, kind: p.kind })),
      shortfall: perSession - picked.length,
    };
  });
}

export interface DispatchResult {
  drawId: string;
  seed: string;
  perSession: number;
  sessions: (SessionDraw & {
    supervisors: { id: string; username: string; kind: SupervisorKind | null }[];
  })[];
}

export interface DrawRecord {
  id: string;
  batchId: string;
  seed: string;
  perSession: number;
  inputs: DrawInputs;
  assignments: SessionDraw[];
  createdBy: string | null;
  createdAt: string;
  /** Replaying the draw from its seed and inputs gives the recorded assignments. */
  replayMatches: boolean;
}

/** Random, conflict-free dispatch of quality supervisors (督导员派遣) to a batch's sessions. */
export class DispatchService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly batches: BatchService,
    private readonly opts: { perSession: number },
    /** Answered by access: the supervisors a batch may draw from. */
    private readonly users: Pick<UserService, 'supervisorPool'>,
  ) {}

  async dispatch(
    actor: Actor,
    batchId: string,
    input: { seed?: string; perSession?: number },
  ): Promise<DispatchResult> {
    requireRole(actor, 'admin');
    await this.batches.getRow(actor, batchId);
    const now = this.clock.now();
    const ctx = await this.batches.context(batchId, now);
    if (ctx.batch.status === 'approved' || ctx.batch.status === 'rejected')
      throw new ConflictError(`batch is ${ctx.batch.status}; supervisors can no longer be dispatched`);
    const perSession = input.perSession ?? this.opts.perSession;
    const seed = input.seed ?? newSeed();
    const sessionIds = ctx.sessions.map((s) => s.sessionId);
    const from = new Date(Math.min(...ctx.sessions.map((s) => s.startsAt.getTime())));
    const to = new Date(Math.max(...ctx.sessions.map((s) => s.endsAt.getTime())));

    return this.db.transaction(async (tx) => {
      // One dispatch at a time, so two draws cannot both take the same free supervisor.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [7_240_914]);
      const users = await this.users.supervisorPool(ctx.batch.unitId, tx);
      const busyRows = await tx.query<{ user_id: string; starts_at: Date; ends_at: Date }>(
        `SELECT ss.user_id, s.starts_at, s.ends_at FROM session_supervisors ss JOIN batch_sessions s ON s.id = ss.session_id
         WHERE s.batch_id <> $1 AND s.starts_at < $3 AND s.ends_at > $2`,
        [batchId, from, to],
      );
      const loadRows = await tx.query<{ user_id: string; n: number }>(
        `SELECT ss.user_id, count(*)::int AS n FROM session_supervisors ss JOIN batch_sessions s ON s.id = ss.session_id
         WHERE s.batch_id <> $1 AND s.starts_at > $2 GROUP BY ss.user_id`,
        [batchId, new Date(now.getTime() - 365 * 86_400_000)],
      );
      const loads = new Map(loadRows.map((r) => [r.user_id, r.n]));
      const inputs: DrawInputs = {
        sessions: ctx.sessions.map((s) => ({
          id: s.sessionId,
          from: s.startsAt.getTime(),
          to: s.endsAt.getTime(),
        })),
        pool: users.map((u) => ({
          id: u.id,
          kind: u.supervisorKind,
          load: loads.get(u.id) ?? 0,
          busy: busyRows
            .filter((b) => b.user_id === u.id)
            .map((b) => ({ from: b.starts_at.getTime(), to: b.ends_at.getTime() })),
        })),
      };
      const draw = drawSupervisors(seed, inputs, perSession);
      const previous = await tx.query<{ session_id: string; user_id: string }>(
        'SELECT session_id, user_id FROM session_supervisors WHERE session_id = ANY($1) ORDER BY session_id, user_id',
        [sessionIds],
      );
      const drawId = newId();
      await tx.query(
        `INSERT INTO dispatch_draws (id, batch_id, seed, per_session, inputs, assignments, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [drawId, batchId, seed, perSession, JSON.stringify(inputs), JSON.stringify(draw), actor.userId, now],
      );
      await tx.query('DELETE FROM session_supervisors WHERE session_id = ANY($1)', [sessionIds]);
      for (const s of draw)
        for (const sup of s.supervisors)
          await tx.query(
            'INSERT INTO session_supervisors (session_id, user_id, assigned_at, draw_id, kind) VALUES ($1, $2, $3, $4, $5)',
            [s.sessionId, sup.id, now, drawId, sup.kind],
          );
      await this.audit.record(
        actor,
        {
          action: previous.length > 0 ? 'batch.redispatch' : 'batch.dispatch',
          subjectType: 'batch',
          subjectId: batchId,
          details: {
            drawId,
            seed,
            perSession,
            poolSize: inputs.pool.length,
            assignments: draw.map((d) => ({
              sessionId: d.sessionId,
              userIds: d.supervisors.map((x) => x.id),
            })),
            previous,
          },
        },
        tx,
      );
      const names = new Map(users.map((u) => [u.id, u.username]));
      return {
        drawId,
        seed,
        perSession,
        sessions: draw.map((d) => ({
          ...d,
          supervisors: d.supervisors.map((x) => ({ ...x, username: names.get(x.id) ?? x.id })),
        })),
      };
    });
  }

  /** Every draw of a batch, each replayed from its recorded seed and inputs. */
  async draws(actor: Actor, batchId: string): Promise<DrawRecord[]> {
    requireRole(actor, 'admin', 'auditor');
    await this.batches.getRow(actor, batchId);
    const rows = await this.db.query<{
      id: string;
      batch_id: string;
      seed: string;
      per_session: number;
      inputs: DrawInputs;
      assignments: SessionDraw[];
      created_by: string | null;
      created_at: Date;
    }>('SELECT * FROM dispatch_draws WHERE batch_id = $1 ORDER BY created_at, id', [batchId]);
    return rows.map((r) => ({
      id: r.id,
      batchId: r.batch_id,
      seed: r.seed,
      perSession: r.per_session,
      inputs: r.inputs,
      assignments: r.assignments,
      createdBy: r.created_by,
      createdAt: r.created_at.toISOString(),
      replayMatches:
        canonicalJson(drawSupervisors(r.seed, r.inputs, r.per_session)) === canonicalJson(r.assignments),
    }));
  }
}

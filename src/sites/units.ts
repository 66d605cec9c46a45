import type { Actor } from '../access/actor.js';
import { requireRole, type Tenancy } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../platform/db.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { cursorCondition, toPage, type ListQuery, type Page } from '../platform/pagination.js';
import type { UnitCreate, UnitView } from './schemas.js';

interface UnitRow {
  id: string;
  name: string;
  credit_code: string;
  kind: 'employer' | 'third_party';
  confidential: boolean;
  region: string | null;
  created_at: Date;
}

const view = (r: UnitRow): UnitView => ({
  id: r.id,
  name: r.name,
  creditCode: r.credit_code,
  kind: r.kind,
  confidential: r.confidential,
  region: r.region,
  createdAt: r.created_at.toISOString(),
});

/** Assessment units (用人单位 / 第三方评价机构): the tenants of the service. */
export class UnitService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly tenancy: Tenancy,
  ) {}

  async create(actor: Actor, input: UnitCreate): Promise<UnitView> {
    requireRole(actor, 'admin');
    return this.db.transaction(async (tx) => {
      const [dup] = await tx.query('SELECT id FROM units WHERE credit_code = $1', [input.creditCode]);
      if (dup)
        throw new ConflictError('a unit with this credit code exists', [
          { path: 'creditCode', message: 'is already registered' },
        ]);
      const id = newId();
      const [row] = await tx.query<UnitRow>(
        `INSERT INTO units (id, name, credit_code, kind, confidential, region) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [id, input.name, input.creditCode, input.kind, input.confidential ?? false, input.region ?? null],
      );
      await this.audit.record(
        actor,
        { action: 'unit.create', subjectType: 'unit', subjectId: id, details: { name: input.name } },
        tx,
      );
      return view(row!);
    });
  }

  async list(actor: Actor, q: ListQuery): Promise<Page<UnitView>> {
    const scope = await this.tenancy.unitScope(actor, 'id', 1);
    const after = cursorCondition(q, 1 + scope.params.length);
    const rows = await this.db.query<UnitRow>(
      `SELECT * FROM units WHERE ${scope.sql} AND ${after.sql} ORDER BY created_at, id LIMIT ${q.limit + 1}`,
      [...scope.params, ...after.params],
    );
    return toPage(rows, q, view);
  }

  async get(actor: Actor, id: string): Promise<UnitView> {
    const scope = await this.tenancy.unitScope(actor, 'id', 2);
    const [row] = await this.db.query<UnitRow>(`SELECT * FROM units WHERE id = $1 AND ${scope.sql}`, [
      id,
      ...scope.params,
    ]);
    if (!row) throw new NotFoundError('unit');
    return view(row);
  }
}

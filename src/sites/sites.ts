import type { Actor } from '../access/actor.js';
import { canWriteUnit, type Tenancy } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db, Queryable } from '../platform/db.js';
import { ConflictError, ForbiddenError, invalidField, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { cursorCondition, toPage, type ListQuery, type Page } from '../platform/pagination.js';
import { CoverageRepository } from './coverage-repository.js';
import type { CoverageView, SiteCreate, SiteView } from './schemas.js';

interface SiteRow {
  id: string;
  unit_id: string;
  name: string;
  address: string | null;
  created_at: Date;
}
interface ZoneRow {
  id: string;
  site_id: string;
  name: string;
}

/** Cameras whose picture counts as coverage: online, not degraded below the picture floor. */
export const HEALTHY_STATUSES = ['online'];

/** Answered by ingest: the cameras among `ids` that are not removed, with their status. */
export interface CameraStatusLookup {
  conditions(ids: string[]): Promise<{ id: string; status: string }[]>;
}

/** Assessment sites (exam rooms, workshops) and their zones (work stations). */
export class SiteService {
  /** Which camera covers which zone (ingest changes a camera's zones through it). */
  readonly assignments: CoverageRepository;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly tenancy: Tenancy,
    private readonly cameras: CameraStatusLookup,
  ) {
    this.assignments = new CoverageRepository(db);
  }

  async create(actor: Actor, input: SiteCreate): Promise<SiteView> {
    if (!canWriteUnit(actor, input.unitId)) {
      if (actor.role === 'unit_operator') throw invalidField('unitId', 'no such unit');
      throw new ForbiddenError();
    }
    return this.db.transaction(async (tx) => {
      const [unit] = await tx.query('SELECT id FROM units WHERE id = $1', [input.unitId]);
      if (!unit) throw invalidField('unitId', 'no such unit');
      const id = newId();
      await tx.query('INSERT INTO sites (id, unit_id, name, address) VALUES ($1, $2, $3, $4)', [
        id,
        input.unitId,
        input.name,
        input.address ?? null,
      ]);
      // Zones keep the order they were given in: created_at steps by a microsecond per zone, since
      // they are all inserted within the same millisecond (at most 500 zones fit in it).
      for (const [i, zone] of input.zones.entries()) {
        await tx.query(
          `INSERT INTO zones (id, site_id, name, created_at)
           VALUES ($1, $2, $3, date_trunc('milliseconds', clock_timestamp()) + $4 * interval '1 microsecond')`,
          [newId(), id, zone.name, i],
        );
      }
      await this.audit.record(
        actor,
        {
          action: 'site.create',
          subjectType: 'site',
          subjectId: id,
          details: { name: input.name, zones: input.zones.length },
        },
        tx,
      );
      return this.load(tx, id);
    });
  }

  async addZone(
    actor: Actor,
    siteId: string,
    name: string,
  ): Promise<{ id: string; siteId: string; name: string }> {
    const site = await this.getRow(actor, siteId);
    if (!canWriteUnit(actor, site.unit_id)) throw new ForbiddenError();
    return this.db.transaction(async (tx) => {
      const [dup] = await tx.query('SELECT id FROM zones WHERE site_id = $1 AND name = $2', [siteId, name]);
      if (dup)
        throw new ConflictError(`zone '${name}' exists on this site`, [
          { path: 'name', message: 'is already used on this site' },
        ]);
      const id = newId();
      await tx.query('INSERT INTO zones (id, site_id, name) VALUES ($1, $2, $3)', [id, siteId, name]);
      await this.audit.record(
        actor,
        { action: 'zone.create', subjectType: 'zone', subjectId: id, details: { siteId, name } },
        tx,
      );
      return { id, siteId, name };
    });
  }

  /** The site row if the actor may see it; 404 otherwise, also for other units' sites. */
  async getRow(actor: Actor, id: string): Promise<SiteRow> {
    const scope = await this.tenancy.siteScope(actor, 'id', 'unit_id', 2);
    const [row] = await this.db.query<SiteRow>(`SELECT * FROM sites WHERE id = $1 AND ${scope.sql}`, [
      id,
      ...scope.params,
    ]);
    if (!row) throw new NotFoundError('site');
    return row;
  }

  async get(actor: Actor, id: string): Promise<SiteView & { coverage: CoverageView[] }> {
    await this.getRow(actor, id);
    return { ...(await this.load(this.db, id)), coverage: await this.coverage(id) };
  }

  async list(actor: Actor, q: ListQuery): Promise<Page<SiteView>> {
    const scope = await this.tenancy.siteScope(actor, 'id', 'unit_id', 1);
    const after = cursorCondition(q, 1 + scope.params.length);
    const rows = await this.db.query<SiteRow>(
      `SELECT * FROM sites WHERE ${scope.sql} AND ${after.sql} ORDER BY created_at, id LIMIT ${q.limit + 1}`,
      [...scope.params, ...after.params],
    );
    const zones = await this.zonesOf(
      this.db,
      rows.map((r) => r.id),
    );
    return toPage(rows, q, (r) => this.view(r, zones));
  }

  /** Each zone, the cameras assigned to it now, and whether at least one of them is healthy. */
  async coverage(siteId: string): Promise<CoverageView[]> {
    const zones = await this.db.query<{ id: string }>(
      'SELECT id FROM zones WHERE site_id = $1 ORDER BY created_at, id',
      [siteId],
    );
    const assigned = await this.assignments.currentCameras(zones.map((z) => z.id));
    const status = new Map(
      (await this.cameras.conditions([...new Set(assigned.map((a) => a.cameraId))])).map((c) => [
        c.id,
        c.status,
      ]),
    );
    return zones.map((z) => {
      const cameraIds = assigned
        .filter((a) => a.zoneId === z.id && status.has(a.cameraId))
        .map((a) => a.cameraId);
      const healthyCameraIds = cameraIds.filter((id) => HEALTHY_STATUSES.includes(status.get(id)!));
      return { zoneId: z.id, covered: healthyCameraIds.length > 0, cameraIds, healthyCameraIds };
    });
  }

  /** Renames a site or changes its address. */
  async update(
    actor: Actor,
    id: string,
    change: { name?: string; address?: string | null },
  ): Promise<SiteView> {
    const site = await this.getRow(actor, id);
    if (!canWriteUnit(actor, site.unit_id)) throw new ForbiddenError();
    await this.db.transaction(async (tx) => {
      await tx.query('UPDATE sites SET name = coalesce($2, name), address = $3 WHERE id = $1', [
        site.id,
        change.name ?? null,
        change.address === undefined ? site.address : change.address,
      ]);
      await this.audit.record(
        actor,
        { action: 'site.update', subjectType: 'site', subjectId: site.id, details: { ...change } },
        tx,
      );
    });
    return this.load(this.db, site.id);
  }

  async renameZone(
    actor: Actor,
    siteId: string,
    zoneId: string,
    name: string,
  ): Promise<{ id: string; siteId: string; name: string }> {
    const site = await this.getRow(actor, siteId);
    if (!canWriteUnit(actor, site.unit_id)) throw new ForbiddenError();
    return this.db.transaction(async (tx) => {
      const [zone] = await tx.query<{ id: string }>('SELECT id FROM zones WHERE id = $1 AND site_id = $2', [
        zoneId,
        site.id,
      ]);
      if (!zone) throw new NotFoundError('zone');
      const [dup] = await tx.query('SELECT id FROM zones WHERE site_id = $1 AND name = $2 AND id <> $3', [
        site.id,
        name,
        zone.id,
      ]);
      if (dup)
        throw new ConflictError(`zone '${name}' exists on this site`, [
          { path: 'name', message: 'is already used on this site' },
        ]);
      await tx.query('UPDATE zones SET name = $2 WHERE id = $1', [zone.id, name]);
      await this.audit.record(
        actor,
        { action: 'zone.update', subjectType: 'zone', subjectId: zone.id, details: { name } },
        tx,
      );
      return { id: zone.id, siteId: site.id, name };
    });
  }

  /** The ids among `zoneIds` that are zones of the site. */
  async zoneIdsOf(siteId: string, zoneIds: string[], q: Queryable = this.db): Promise<Set<string>> {
    const found = await q.query<{ id: string }>('SELECT id FROM zones WHERE site_id = $1 AND id = ANY($2)', [
      siteId,
      zoneIds,
    ]);
    return new Set(found.map((z) => z.id));
  }

  private async load(q: Queryable, id: string): Promise<SiteView> {
    const [row] = await q.query<SiteRow>('SELECT * FROM sites WHERE id = $1', [id]);
    if (!row) throw new NotFoundError('site');
    return this.view(row, await this.zonesOf(q, [id]));
  }

  private async zonesOf(q: Queryable, siteIds: string[]): Promise<ZoneRow[]> {
    if (siteIds.length === 0) return [];
    return q.query<ZoneRow>(
      'SELECT id, site_id, name FROM zones WHERE site_id = ANY($1) ORDER BY created_at, id',
      [siteIds],
    );
  }

  private view(r: SiteRow, zones: ZoneRow[]): SiteView {
    return {
      id: r.id,
      unitId: r.unit_id,
      name: r.name,
      address: r.address,
      createdAt: r.created_at.toISOString(),
      zones: zones
        .filter((z) => z.site_id === r.id)
        .map((z) => ({ id: z.id, siteId: z.site_id, name: z.name })),
    };
  }
}

import type { Db, Queryable } from '../platform/db.js';

/*
 * What other modules may know about units, sites and zones, answered by sites (their owner). No
 * tenancy here: callers decide who may see what.
 */

export interface UnitInfo {
  id: string;
  name: string;
  confidential: boolean;
}

export interface SiteInfo {
  id: string;
  unitId: string;
  name: string;
}

export interface ZoneInfo {
  id: string;
  siteId: string;
  name: string;
}

export class SiteRepository {
  constructor(private readonly db: Db) {}

  async unit(id: string, q: Queryable = this.db): Promise<UnitInfo | null> {
    const [row] = await q.query<UnitInfo>('SELECT id, name, confidential FROM units WHERE id = $1', [id]);
    return row ?? null;
  }

  async unitExists(id: string, q: Queryable = this.db): Promise<boolean> {
    return (await q.query('SELECT 1 FROM units WHERE id = $1', [id])).length > 0;
  }

  /** Ids of the confidential units (涉密单位), whose live material stays inside the unit. */
  async confidentialUnitIds(): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>('SELECT id FROM units WHERE confidential');
    return rows.map((r) => r.id);
  }

  async site(id: string, q: Queryable = this.db): Promise<SiteInfo | null> {
    const [row] = await q.query<SiteInfo>('SELECT id, unit_id AS "unitId", name FROM sites WHERE id = $1', [
      id,
    ]);
    return row ?? null;
  }

  /** The site with whether its unit is confidential, in one query. */
  async siteOfUnit(id: string): Promise<(SiteInfo & { confidential: boolean }) | null> {
    const [row] = await this.db.query<SiteInfo & { confidential: boolean }>(
      `SELECT s.id, s.unit_id AS "unitId", s.name, u.confidential FROM sites s JOIN units u ON u.id = s.unit_id
       WHERE s.id = $1`,
      [id],
    );
    return row ?? null;
  }

  async sites(ids: string[]): Promise<SiteInfo[]> {
    if (ids.length === 0) return [];
    return this.db.query<SiteInfo>('SELECT id, unit_id AS "unitId", name FROM sites WHERE id = ANY($1)', [
      ids,
    ]);
  }

  /** Zones of these sites, in the order they were created. */
  async zonesOfSites(siteIds: string[]): Promise<ZoneInfo[]> {
    if (siteIds.length === 0) return [];
    return this.db.query<ZoneInfo>(
      'SELECT id, site_id AS "siteId", name FROM zones WHERE site_id = ANY($1) ORDER BY created_at, id',
      [siteIds],
    );
  }

  /** Zones of a site, all or only those among `zoneIds`, in the order they were created. */
  async zonesOfSite(
    siteId: string,
    zoneIds: string[] | null = null,
    q: Queryable = this.db,
  ): Promise<ZoneInfo[]> {
    return q.query<ZoneInfo>(
      `SELECT id, site_id AS "siteId", name FROM zones WHERE site_id = $1 AND ($2::text[] IS NULL OR id = ANY($2))
       ORDER BY created_at, id`,
      [siteId, zoneIds],
    );
  }
}

import type { Db, Queryable } from '../platform/db.js';
import type { CameraStatus } from './schemas.js';
import type { CameraHealth } from './stream-supervisor.js';

/*
 * What other modules may know about cameras, answered by ingest (the owner of `cameras`). No
 * tenancy here: callers decide who may see what (the registry does it for the API).
 */

/** Where a camera is and what it is called; removed cameras included (their footage stays). */
export interface CameraPlacement {
  id: string;
  siteId: string;
  unitId: string;
  name: string;
  createdAt: Date;
  deletedAt: Date | null;
}

/** A camera under supervision now, with what the health monitor last stored. */
export interface CameraCondition {
  id: string;
  name: string;
  status: CameraStatus;
  /** What the stream supervisor last stored; partial before the camera was first supervised. */
  health: Partial<CameraHealth> | null;
}

interface PlacementRow {
  id: string;
  site_id: string;
  unit_id: string;
  name: string;
  created_at: Date;
  deleted_at: Date | null;
}

const placementOf = (r: PlacementRow): CameraPlacement => ({
  id: r.id,
  siteId: r.site_id,
  unitId: r.unit_id,
  name: r.name,
  createdAt: r.created_at,
  deletedAt: r.deleted_at,
});

export class CameraRepository {
  constructor(private readonly db: Db) {}

  /** The camera, removed or not; null when there never was one. */
  async placement(id: string, q: Queryable = this.db): Promise<CameraPlacement | null> {
    const [row] = await q.query<PlacementRow>(
      'SELECT id, site_id, unit_id, name, created_at, deleted_at FROM cameras WHERE id = $1',
      [id],
    );
    return row ? placementOf(row) : null;
  }

  /** Cameras of a site that existed at some time within [from, to), oldest first. */
  async atSiteDuring(siteId: string, from: Date, to: Date): Promise<CameraPlacement[]> {
    const rows = await this.db.query<PlacementRow>(
      `SELECT id, site_id, unit_id, name, created_at, deleted_at FROM cameras
       WHERE site_id = $1 AND created_at < $3 AND (deleted_at IS NULL OR deleted_at > $2)
       ORDER BY created_at, id`,
      [siteId, from, to],
    );
    return rows.map(placementOf);
  }

  /** Ids of the cameras (removed ones included) at any of these sites. */
  async idsAtSites(siteIds: string[]): Promise<string[]> {
    if (siteIds.length === 0) return [];
    const rows = await this.db.query<{ id: string }>('SELECT id FROM cameras WHERE site_id = ANY($1)', [
      siteIds,
    ]);
    return rows.map((r) => r.id);
  }

  /** The cameras among `ids` that are not removed, oldest first. */
  async conditions(ids: string[]): Promise<CameraCondition[]> {
    if (ids.length === 0) return [];
    return this.db.query<CameraCondition>(
      `SELECT id, name, status, health FROM cameras WHERE id = ANY($1) AND deleted_at IS NULL
       ORDER BY created_at, id`,
      [ids],
    );
  }
}

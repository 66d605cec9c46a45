import type { Db, Queryable } from '../platform/db.js';

/*
 * Coverage: which camera covers which zone, with the history of earlier assignments (so footage of
 * a camera re-assigned later still maps to the zones it covered then). Sites owns `camera_zones`;
 * ingest changes a camera's zones through here, inside its own transaction (`q`).
 */

export interface ZoneAssignment {
  cameraId: string;
  zoneId: string;
  from: Date;
  to: Date | null;
}

export class CoverageRepository {
  constructor(private readonly db: Db) {}

  /** Each camera's current zones, sorted; cameras without zones are absent. */
  async currentZones(cameraIds: string[], q: Queryable = this.db): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (cameraIds.length === 0) return out;
    const rows = await q.query<{ camera_id: string; zone_id: string }>(
      `SELECT camera_id, zone_id FROM camera_zones WHERE camera_id = ANY($1) AND assigned_to IS NULL
       ORDER BY zone_id`,
      [cameraIds],
    );
    for (const r of rows) out.set(r.camera_id, [...(out.get(r.camera_id) ?? []), r.zone_id]);
    return out;
  }

  /** The cameras assigned now to these zones. */
  async currentCameras(zoneIds: string[]): Promise<{ zoneId: string; cameraId: string }[]> {
    if (zoneIds.length === 0) return [];
    return this.db.query<{ zoneId: string; cameraId: string }>(
      `SELECT zone_id AS "zoneId", camera_id AS "cameraId" FROM camera_zones
       WHERE zone_id = ANY($1) AND assigned_to IS NULL ORDER BY camera_id`,
      [zoneIds],
    );
  }

  /** Assignments of these cameras that were in force at some time within [from, to), oldest first. */
  async during(cameraIds: string[], from: Date, to: Date): Promise<ZoneAssignment[]> {
    if (cameraIds.length === 0) return [];
    return this.db.query<ZoneAssignment>(
      `SELECT camera_id AS "cameraId", zone_id AS "zoneId", assigned_from AS "from", assigned_to AS "to"
       FROM camera_zones WHERE camera_id = ANY($1) AND assigned_from < $3 AND (assigned_to IS NULL OR assigned_to > $2)
       ORDER BY assigned_from`,
      [cameraIds, from, to],
    );
  }

  /** Replaces the camera's current zones from `now` on, keeping the history. */
  async assign(q: Queryable, cameraId: string, zoneIds: string[], now: Date): Promise<void> {
    await q.query(
      'UPDATE camera_zones SET assigned_to = $2 WHERE camera_id = $1 AND assigned_to IS NULL AND NOT (zone_id = ANY($3))',
      [cameraId, now, zoneIds],
    );
    for (const zoneId of zoneIds) {
      await q.query(
        `INSERT INTO camera_zones (camera_id, zone_id, assigned_from)
         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM camera_zones WHERE camera_id = $1 AND zone_id = $2 AND assigned_to IS NULL)`,
        [cameraId, zoneId, now],
      );
    }
  }

  /** Ends every current assignment of the camera (it is removed). */
  async release(q: Queryable, cameraId: string, now: Date): Promise<void> {
    await q.query('UPDATE camera_zones SET assigned_to = $2 WHERE camera_id = $1 AND assigned_to IS NULL', [
      cameraId,
      now,
    ]);
  }
}

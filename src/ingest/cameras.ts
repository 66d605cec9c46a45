import type { Actor } from '../access/actor.js';
import { canWriteUnit, siteScope } from '../access/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db, Queryable } from '../platform/db.js';
import { ForbiddenError, invalidField, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import type { SecretBox } from '../platform/secret-box.js';
import type { SiteService } from '../sites/sites.js';
import { splitCredentials, withCredentials } from './rtsp-url.js';
import type { CameraStatus, CameraView, StreamInfo } from './schemas.js';

export interface CameraRow {
  id: string;
  site_id: string;
  unit_id: string;
  name: string;
  source: 'rtsp' | 'onvif';
  rtsp_url: string;
  credentials_sealed: string | null;
  onvif: { host: string; port: number } | null;
  streams: StreamInfo[];
  status: CameraStatus;
  status_reason: string | null;
  health: Record<string, unknown>;
  created_at: Date;
  zone_ids?: string[] | null;
  snapshot_uri?: string | null;
  device?: Record<string, unknown> | null;
}

export interface CameraCredentials {
  username: string | null;
  password: string | null;
}

/** What a new camera is, once onboarding (ONVIF or a plain RTSP URL) has found it. */
export interface NewCamera {
  siteId: string;
  name: string;
  source: 'rtsp' | 'onvif';
  rtspUrl: string;
  onvif?: { host: string; port: number } | null;
  streams?: StreamInfo[];
  /** ONVIF onboarding: where the device serves JPEG snapshots, and who it says it is. */
  snapshotUri?: string | null;
  device?: Record<string, unknown> | null;
  /** Health known at onboarding (e.g. the clock skew read then). */
  health?: Record<string, unknown>;
}

const CAMERA_SELECT = `SELECT c.*, (SELECT array_agg(cz.zone_id ORDER BY cz.zone_id) FROM camera_zones cz
  WHERE cz.camera_id = c.id AND cz.assigned_to IS NULL) AS zone_ids FROM cameras c`;

/** The camera registry: what each camera is, where it is, and its sealed credentials. */
export class CameraRegistry {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly sites: SiteService,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {}

  /** Stores a camera; credentials in the URL (or given separately) are sealed, never kept in clear. */
  async create(actor: Actor, input: NewCamera, credentials?: CameraCredentials): Promise<CameraView> {
    const site = await this.sites.getRow(actor, input.siteId).catch(() => {
      throw invalidField('siteId', 'no such site');
    });
    if (!canWriteUnit(actor, site.unit_id)) throw new ForbiddenError();
    const split = splitCredentials(input.rtspUrl);
    const creds = credentials ?? { username: split.username, password: split.password };
    const sealed = creds.username ? this.secrets.seal(JSON.stringify(creds)) : null;
    const id = newId();
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO cameras (id, site_id, unit_id, name, source, rtsp_url, credentials_sealed, onvif, streams,
           snapshot_uri, device, health)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          id,
          site.id,
          site.unit_id,
          input.name,
          input.source,
          split.url,
          sealed,
          input.onvif ? JSON.stringify(input.onvif) : null,
          JSON.stringify(input.streams ?? []),
          input.snapshotUri ?? null,
          input.device ? JSON.stringify(input.device) : null,
          JSON.stringify(input.health ?? {}),
        ],
      );
      await this.audit.record(
        actor,
        {
          action: 'camera.create',
          subjectType: 'camera',
          subjectId: id,
          details: { siteId: site.id, name: input.name, source: input.source },
        },
        tx,
      );
      return view((await this.rows(tx, 'c.id = $1', [id]))[0]!);
    });
  }

  /** Fails fast (before any network step of onboarding) when the actor may not add cameras to the site. */
  async checkSiteWritable(actor: Actor, siteId: string): Promise<void> {
    const site = await this.sites.getRow(actor, siteId).catch(() => {
      throw invalidField('siteId', 'no such site');
    });
    if (!canWriteUnit(actor, site.unit_id)) throw new ForbiddenError();
  }

  /** The camera row if the actor may see it; 404 otherwise. */
  async getRow(actor: Actor, id: string): Promise<CameraRow> {
    const scope = siteScope(actor, 'c.site_id', 'c.unit_id', 2);
    const [row] = await this.rows(this.db, `c.id = $1 AND c.deleted_at IS NULL AND ${scope.sql}`, [
      id,
      ...scope.params,
    ]);
    if (!row) throw new NotFoundError('camera');
    return row;
  }

  async get(actor: Actor, id: string): Promise<CameraView> {
    return view(await this.getRow(actor, id));
  }

  async listBySite(siteId: string): Promise<CameraView[]> {
    return (await this.rows(this.db, 'c.site_id = $1 AND c.deleted_at IS NULL', [siteId])).map(view);
  }

  /** Every live camera, for the ingest side (no tenancy: the service itself supervises them all). */
  async listActive(): Promise<CameraRow[]> {
    return this.rows(this.db, 'c.deleted_at IS NULL', []);
  }

  /** The full pull URL with credentials, for ffmpeg only; never returned by the API. */
  pullUrl(row: CameraRow, stored = row.rtsp_url): string {
    const creds = this.credentials(row);
    return withCredentials(stored, creds.username, creds.password);
  }

  credentials(row: CameraRow): CameraCredentials {
    return row.credentials_sealed
      ? (JSON.parse(this.secrets.open(row.credentials_sealed)) as CameraCredentials)
      : { username: null, password: null };
  }

  /** Replaces the camera's current zones, keeping the history of earlier assignments. */
  async setZones(actor: Actor, id: string, zoneIds: string[]): Promise<CameraView> {
    const cam = await this.getRow(actor, id);
    if (!canWriteUnit(actor, cam.unit_id)) throw new ForbiddenError();
    const unique = [...new Set(zoneIds)];
    return this.db.transaction(async (tx) => {
      const found = await tx.query<{ id: string }>(
        'SELECT id FROM zones WHERE site_id = $1 AND id = ANY($2)',
        [cam.site_id, unique],
      );
      const known = new Set(found.map((z) => z.id));
      const bad = zoneIds.findIndex((z) => !known.has(z));
      if (bad >= 0) throw invalidField(`zoneIds.${bad}`, "is not a zone of this camera's site");
      const now = this.clock.now();
      await tx.query(
        'UPDATE camera_zones SET assigned_to = $2 WHERE camera_id = $1 AND assigned_to IS NULL AND NOT (zone_id = ANY($3))',
        [id, now, unique],
      );
      for (const zoneId of unique) {
        await tx.query(
          `INSERT INTO camera_zones (camera_id, zone_id, assigned_from)
           SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM camera_zones WHERE camera_id = $1 AND zone_id = $2 AND assigned_to IS NULL)`,
          [id, zoneId, now],
        );
      }
      await this.audit.record(
        actor,
        { action: 'camera.zones', subjectType: 'camera', subjectId: id, details: { zoneIds: unique } },
        tx,
      );
      return view((await this.rows(tx, 'c.id = $1', [id]))[0]!);
    });
  }

  /** Removes the camera from supervision; its footage stays under its retention rule. */
  async remove(actor: Actor, id: string): Promise<void> {
    const cam = await this.getRow(actor, id);
    if (!canWriteUnit(actor, cam.unit_id)) throw new ForbiddenError();
    await this.db.transaction(async (tx) => {
      const now = this.clock.now();
      await tx.query('UPDATE cameras SET deleted_at = $2 WHERE id = $1', [id, now]);
      await tx.query(
        'UPDATE camera_zones SET assigned_to = $2 WHERE camera_id = $1 AND assigned_to IS NULL',
        [id, now],
      );
      await this.audit.record(
        actor,
        { action: 'camera.delete', subjectType: 'camera', subjectId: id, details: { name: cam.name } },
        tx,
      );
    });
  }

  private rows(q: Queryable, where: string, params: unknown[]): Promise<CameraRow[]> {
    return q.query<CameraRow>(`${CAMERA_SELECT} WHERE ${where} ORDER BY c.created_at, c.id`, params);
  }
}

export function view(r: CameraRow): CameraView {
  return {
    id: r.id,
    siteId: r.site_id,
    unitId: r.unit_id,
    name: r.name,
    source: r.source,
    rtspUrl: r.rtsp_url,
    onvif: r.onvif,
    streams: r.streams.map((s) => ({ ...s, rtspUrl: splitCredentials(s.rtspUrl).url })),
    status: r.status,
    statusReason: r.status_reason,
    health: r.health,
    zoneIds: r.zone_ids ?? [],
    createdAt: r.created_at.toISOString(),
  };
}

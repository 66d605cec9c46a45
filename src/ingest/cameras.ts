import type { Actor } from '../access/actor.js';
import { canWriteUnit, type Tenancy } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../platform/clock.js';
import type { Db, Queryable } from '../platform/db.js';
import { ForbiddenError, invalidField, NotFoundError } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import type { SecretBox } from '../platform/secret-box.js';
import type { SiteService } from '../sites/sites.js';
import { splitCredentials, withCredentials } from './rtsp-url.js';
import type { CameraStatus, CameraView, StreamInfo } from './schemas.js';
import type { CameraHealth } from './stream-supervisor.js';

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
  /** What the stream supervisor last stored; partial before the camera was first supervised. */
  health: Partial<CameraHealth>;
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
  health?: Partial<CameraHealth>;
}

/** What the registry needs of sites: the site (with tenancy), its zones, and camera coverage. */
export type SiteLookup = Pick<SiteService, 'getRow' | 'zoneIdsOf' | 'assignments'>;

/** The camera registry: what each camera is, where it is, and its sealed credentials. */
export class CameraRegistry {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly sites: SiteLookup,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly tenancy: Tenancy,
  ) {}

  /** Stores a camera; credentials in the URL (or given separately) are sealed, never kept in clear. */
  async create(actor: Actor, input: NewCamera, credentials?: CameraCredentials): Promise<CameraView> {
    const site = await this.siteFor(actor, input.siteId);
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
    const site = await this.siteFor(actor, siteId);
    if (!canWriteUnit(actor, site.unit_id)) throw new ForbiddenError();
  }

  /** The site a camera is to be added to: a site the actor cannot see is a bad field, any other failure stays what it is. */
  private async siteFor(actor: Actor, siteId: string) {
    try {
      return await this.sites.getRow(actor, siteId);
    } catch (err) {
      if (err instanceof NotFoundError) throw invalidField('siteId', 'no such site');
      throw err;
    }
  }

  /** The camera row if the actor may see it; 404 otherwise. */
  async getRow(actor: Actor, id: string): Promise<CameraRow> {
    const scope = await this.tenancy.siteScope(actor, 'c.site_id', 'c.unit_id', 2);
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

  /** How many cameras (not removed) are in each status. */
  async statusCounts(): Promise<Map<string, number>> {
    const rows = await this.db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM cameras WHERE deleted_at IS NULL GROUP BY status',
    );
    return new Map(rows.map((r) => [r.status, Number(r.n)]));
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
      const known = await this.sites.zoneIdsOf(cam.site_id, unique, tx);
      const bad = zoneIds.findIndex((z) => !known.has(z));
      if (bad >= 0) throw invalidField(`zoneIds.${bad}`, "is not a zone of this camera's site");
      const now = this.clock.now();
      await this.sites.assignments.assign(tx, id, unique, now);
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
      await this.sites.assignments.release(tx, id, now);
      await this.audit.record(
        actor,
        { action: 'camera.delete', subjectType: 'camera', subjectId: id, details: { name: cam.name } },
        tx,
      );
    });
  }

  private async rows(q: Queryable, where: string, params: unknown[]): Promise<CameraRow[]> {
    const rows = await q.query<CameraRow>(
      `SELECT c.* FROM cameras c WHERE ${where} ORDER BY c.created_at, c.id`,
      params,
    );
    const zones = await this.sites.assignments.currentZones(
      rows.map((r) => r.id),
      q,
    );
    return rows.map((r) => ({ ...r, zone_ids: zones.get(r.id) ?? null }));
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

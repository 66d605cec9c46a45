import { z } from 'zod';
import { userView } from '../../access/schemas.js';
import { CAMERA_STATUSES } from '../../ingest/schemas.js';
import { listQuery } from '../../platform/pagination.js';
import { id, text } from '../../platform/validation.js';
import { siteView, zoneView } from '../../sites/schemas.js';
import { idParams, listOf, route } from '../route.js';
import type { Config } from '../../../config/schema.js';
import type { UserService } from '../../access/users.js';
import type { AlertService } from '../../alerts/service.js';
import type { CameraRegistry } from '../../ingest/cameras.js';
import type { AlertJobs } from '../../alerts/jobs.js';
import type { BatchJobs } from '../../batches/jobs.js';
import type { Jobs } from '../../platform/jobs.js';
import type { RecordingJobs } from '../../recording/jobs.js';
import type { FootageStore } from '../../recording/footage-store.js';
import type { Recording } from '../../recording/recording.js';
import type { SiteService } from '../../sites/sites.js';

/** What the web application needs beyond the v1 contract: user list, renames, a health summary. */

const siteRenameBody = z
  .strictObject({ name: text(200).optional(), address: text(500).nullable().optional() })
  .refine((b) => b.name !== undefined || b.address !== undefined, {
    message: 'give name or address',
    path: ['name'],
  });
const zoneRenameBody = z.strictObject({ name: text(100) });
const zoneParams = z.strictObject({ id, zoneId: id });

/** The jobs whose queues the system health page shows. */
type HealthJobs = RecordingJobs & BatchJobs & AlertJobs;
const QUEUES: (keyof HealthJobs)[] = ['segment.store', 'retention.sweep', 'export.build', 'alerts.webhook'];
const systemHealthView = z.object({
  cameras: z.object(
    Object.fromEntries(CAMERA_STATUSES.map((s) => [s, z.number()])) as Record<
      (typeof CAMERA_STATUSES)[number],
      z.ZodNumber
    >,
  ),
  storage: z.object({
    ok: z.boolean(),
    kind: z.string(),
    fill: z.number().nullable(),
    fillLimit: z.number(),
    objectLock: z.boolean().nullable(),
    error: z.string().nullable(),
  }),
  spool: z.object({ bytes: z.number(), maxBytes: z.number(), cameras: z.number() }),
  queues: z.array(
    z.object({
      name: z.string(),
      waiting: z.number(),
      active: z.number(),
      delayed: z.number(),
      failed: z.number(),
    }),
  ),
  openAlerts: z.number(),
});

/** What these routes use. */
export interface WebSupportRouteDeps {
  config: Config;
  jobs: Jobs<HealthJobs>;
  users: UserService;
  sites: SiteService;
  cameras: CameraRegistry;
  alerts: AlertService;
  recording: Recording;
  store: FootageStore;
}

export const webSupportRoutes = (s: WebSupportRouteDeps) => [
  route({
    method: 'get',
    path: '/users',
    summary: 'List users',
    tag: 'auth',
    roles: ['admin'],
    query: listQuery,
    response: listOf(userView),
    handler: ({ query }) => s.users.list(query),
  }),
  route({
    method: 'put',
    path: '/sites/:id',
    summary: 'Rename a site or change its address',
    tag: 'sites',
    roles: ['admin', 'unit_operator'],
    params: idParams,
    body: siteRenameBody,
    response: siteView,
    handler: ({ actor, params, body }) => s.sites.update(actor, params.id, body),
  }),
  route({
    method: 'put',
    path: '/sites/:id/zones/:zoneId',
    summary: 'Rename a zone',
    tag: 'sites',
    roles: ['admin', 'unit_operator'],
    params: zoneParams,
    body: zoneRenameBody,
    response: zoneView,
    handler: ({ actor, params, body }) => s.sites.renameZone(actor, params.id, params.zoneId, body.name),
  }),
  route({
    method: 'get',
    path: '/system/health',
    summary: 'System health: cameras per state, storage fill, spool, job queues, open alerts',
    tag: 'operations',
    roles: ['admin'],
    response: systemHealthView,
    handler: async () => {
      const counts = await s.cameras.statusCounts();
      const cameras = Object.fromEntries(CAMERA_STATUSES.map((st) => [st, 0])) as Record<
        (typeof CAMERA_STATUSES)[number],
        number
      >;
      for (const [status, n] of counts) if (status in cameras) cameras[status as keyof typeof cameras] = n;
      let storage: z.infer<typeof systemHealthView>['storage'];
      try {
        const st = await s.recording.storageStatus();
        storage = {
          ok: true,
          kind: s.store.kind,
          fill: await s.recording.retention.fillLevel(),
          fillLimit: s.config.STORAGE_FILL_LIMIT,
          objectLock: typeof st.objectLock === 'boolean' ? st.objectLock : null,
          error: null,
        };
      } catch (err) {
        storage = {
          ok: false,
          kind: s.store.kind,
          fill: null,
          fillLimit: s.config.STORAGE_FILL_LIMIT,
          objectLock: null,
          error: (err as Error).message,
        };
      }
      // Spools and their store queues belong to the ingest processes, wherever they run.
      const spools = await s.recording.spools.list();
      const queues = await Promise.all(
        QUEUES.map(async (name) => {
          const lanes = name === 'segment.store' ? spools.map((r) => r.spoolId) : [undefined];
          const counts = await Promise.all(lanes.map((lane) => s.jobs.counts(name, lane)));
          const sum = (k: string) => counts.reduce((n, c) => n + (c[k] ?? 0), 0);
          return {
            name,
            waiting: sum('waiting'),
            active: sum('active'),
            delayed: sum('delayed'),
            failed: sum('failed'),
          };
        }),
      );
      const openAlerts = await s.alerts.store.countOpen();
      return {
        cameras,
        storage,
        spool: {
          bytes: spools.reduce((n, r) => n + r.bytes, 0),
          maxBytes: s.config.SPOOL_MAX_BYTES,
          cameras: spools.reduce((n, r) => n + r.cameras, 0),
        },
        queues,
        openAlerts,
      };
    },
  }),
];

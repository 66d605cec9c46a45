import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { createAccessModule } from './access/module.js';
import { Tenancy } from './access/policy.js';
import { LiveEventLog } from './alerts/live-events.js';
import { createAlertsModule } from './alerts/module.js';
import { API_BASE, createHttpApp } from './api/http.js';
import { attachLiveMedia, mountLiveMedia } from './api/live-media-gate.js';
import { mountSupervisorPage } from './api/live-web.js';
import { openApiDocument } from './api/openapi.js';
import type { Route } from './api/route.js';
import { accessRoutes, type AccessRouteDeps } from './api/routes/access.js';
import { alertRoutes, type AlertRouteDeps } from './api/routes/alerts.js';
import { batchExportRoutes, type BatchExportRouteDeps } from './api/routes/batch-exports.js';
import { batchRoutes, type BatchRouteDeps } from './api/routes/batches.js';
import { cameraRoutes, type CameraRouteDeps } from './api/routes/cameras.js';
import { operationRoutes, type OperationRouteDeps } from './api/routes/operations.js';
import { recordingRoutes, type RecordingRouteDeps } from './api/routes/recordings.js';
import { siteRoutes, type SiteRouteDeps } from './api/routes/sites.js';
import { webSupportRoutes, type WebSupportRouteDeps } from './api/routes/web-support.js';
import { AuditLog } from './audit/audit-log.js';
import { createBatchesModule, type BatchesModule } from './batches/module.js';
import { SessionRepository } from './batches/session-repository.js';
import type { DomainEvents, DomainJobs } from './events.js';
import { CameraRepository } from './ingest/camera-repository.js';
import type { IngestManager } from './ingest/ingest-manager.js';
import { registerIngestMetrics } from './ingest/metrics.js';
import { createIngestModule, type IngestModule } from './ingest/module.js';
import { createLiveModule, type LiveModule } from './live/module.js';
import { systemClock, type Clock } from './platform/clock.js';
import { Lifetime } from './platform/lifecycle.js';
import { createLogger, type Logger } from './platform/logger.js';
import { openPlatform, type Platform } from './platform/platform.js';
import type { FootageStore } from './recording/footage-store.js';
import { createRecordingModule } from './recording/module.js';
import type { Recording } from './recording/recording.js';
import { createSitesModule } from './sites/module.js';
import { SiteRepository } from './sites/site-repository.js';

/** What the routes use, together; each route function takes only its own part of it. */
export type ApiRouteDeps = AccessRouteDeps &
  AlertRouteDeps &
  BatchExportRouteDeps &
  BatchRouteDeps &
  CameraRouteDeps &
  OperationRouteDeps &
  RecordingRouteDeps &
  SiteRouteDeps &
  WebSupportRouteDeps;

/** Every /api/v1 route; handlers use their deps only when called, so the OpenAPI document needs none. */
export function apiRoutes(deps: ApiRouteDeps): Route[] {
  return [
    ...accessRoutes(deps),
    ...siteRoutes(deps),
    ...cameraRoutes(deps),
    ...batchRoutes(deps),
    ...batchExportRoutes(deps),
    ...operationRoutes(deps),
    ...alertRoutes(deps),
    ...recordingRoutes(deps),
    ...webSupportRoutes(deps),
  ];
}

/**
 * The parts of a running service, for tests and benchmarks that look inside (process counts,
 * recording internals). Nothing in the service takes this whole: each part gets what it uses.
 */
export interface ServiceParts
  extends Platform<DomainEvents, DomainJobs>, IngestModule, Omit<ApiRouteDeps, 'jobs'> {
  store: FootageStore;
  recording: Recording;
  batchOps: BatchesModule;
  live: LiveModule;
  liveView: LiveModule['view'];
  mediaServer: LiveModule['media'];
  liveRelay: LiveModule['relay'];
}

export interface RunningService {
  services: ServiceParts;
  /** Base URL of the HTTP server, when this process runs the API role. */
  url: string | null;
  /** The camera supervision, when this process runs the ingest role. */
  ingest: IngestManager | null;
  close(): Promise<void>;
}

/**
 * Builds every module once, from narrow parts, in dependency order, and starts each; the roles in
 * the config decide what a module starts (the recorder's spool with ingest, the engines with worker).
 */
async function startModules(
  p: Platform<DomainEvents, DomainJobs>,
  lifetime: Lifetime,
): Promise<ServiceParts> {
  const audit = new AuditLog(p.db, p.clock);
  // Each table has one owner. What owners answer for other modules needs only the database, so it
  // is built first: tenancy asks batches (assignments) and sites (confidential units) from the start.
  const siteRepo = new SiteRepository(p.db);
  const cameraRepo = new CameraRepository(p.db);
  const sessionRepo = new SessionRepository(p.db);
  const tenancy = new Tenancy({
    supervisorReach: (userId) => sessionRepo.supervisorReach(userId),
    confidentialUnitIds: () => siteRepo.confidentialUnitIds(),
  });
  const { users } = await createAccessModule(p, audit, siteRepo);
  const { units, sites } = createSitesModule(p.db, audit, { tenancy, cameras: cameraRepo });
  const ingest = createIngestModule(p, { audit, sites, tenancy }, lifetime);
  const { store, recording } = createRecordingModule(p, {
    audit,
    processes: ingest.processes,
    tenancy,
    cameras: cameraRepo,
  });
  const liveEvents = new LiveEventLog(p.db, p.clock, { tenancy, sites: siteRepo, batches: sessionRepo });
  const live = await createLiveModule(
    p,
    {
      users,
      tenancy,
      events: liveEvents,
      audit,
      cameras: ingest.cameras,
      processes: ingest.processes,
      networkPolicy: ingest.networkPolicy,
    },
    lifetime,
  );
  const alerting = createAlertsModule(p, {
    audit,
    sites,
    events: liveEvents,
    live: live.hub,
    tenancy,
    sessions: sessionRepo,
  });
  const batchOps = await createBatchesModule(p, {
    audit,
    store,
    recording,
    tenancy,
    owners: { users, sites: siteRepo, coverage: sites.assignments, cameras: cameraRepo },
  });
  await lifetime.start(recording);
  await lifetime.start(live);
  await lifetime.start(alerting);
  await lifetime.start(batchOps);
  registerIngestMetrics(p.metrics.registry, { db: p.db, processes: ingest.processes });
  return {
    ...p,
    ...ingest,
    audit,
    users,
    units,
    sites,
    store,
    recording,
    alerts: alerting.alerts,
    batches: batchOps.batches,
    batchOps,
    live,
    liveView: live.view,
    mediaServer: live.media,
    liveRelay: live.relay,
  };
}

async function readiness(s: Pick<ServiceParts, 'db' | 'redis' | 'recording'>) {
  const check = async (fn: () => Promise<unknown>) => {
    try {
      const detail = await fn();
      return { ok: true, ...(detail && typeof detail === 'object' ? detail : {}) };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  };
  const checks = {
    database: await check(async () => ({ kind: s.db.kind, ...(await s.db.query('SELECT 1'), {}) })),
    redis: await check(() => s.redis.ping()),
    storage: await check(() => s.recording.storageStatus()),
  };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

/** Starts the API's HTTP server: routes, the socket.io hub, the live media gate, health and metrics. */
async function startHttp(s: ServiceParts, lifetime: Lifetime): Promise<string> {
  const { config, log } = s;
  const routes = apiRoutes(s);
  const doc = openApiDocument(routes, API_BASE);
  const app = createHttpApp({
    routes,
    users: s.users,
    metrics: s.metrics,
    log,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustedProxies: config.TRUSTED_PROXIES ?? [],
    mount: (a) => {
      a.get('/healthz', (_req, res) => res.json({ ok: true }));
      mountLiveMedia(a, s.liveView, log);
      mountSupervisorPage(a);
      a.get(['/readyz', `${API_BASE}/readyz`], async (_req, res) => {
        const r = await readiness(s);
        res.status(r.ready ? 200 : 503).json(r);
      });
      a.get('/metrics', async (_req, res) => {
        res.type(s.metrics.registry.contentType).send(await s.metrics.registry.metrics());
      });
      a.get(`${API_BASE}/openapi.json`, (_req, res) => res.json(doc));
    },
  });
  const server = http.createServer(app);
  s.live.hub.attach(server);
  attachLiveMedia(server, s.liveView);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, resolve);
  });
  lifetime.own({
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  const { port } = server.address() as AddressInfo;
  s.networkPolicy.refusePort({ port, label: 'HTTP API' });
  log.info({ port, database: s.db.kind, store: s.store.kind }, 'API listening');
  return `http://127.0.0.1:${port}`;
}

/** Starts the roles this process runs (api, ingest, worker). */
export async function startService(
  config: Config,
  opts: { log?: Logger; clock?: Clock } = {},
): Promise<RunningService> {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const lifetime = new Lifetime(log);
  try {
    const platform = await openPlatform<DomainEvents, DomainJobs>(
      config,
      log,
      opts.clock ?? systemClock,
      lifetime,
    );
    const services = await startModules(platform, lifetime);
    if (services.store.kind === 'local' && new Set(config.ROLES).size < 3)
      log.warn(
        { roles: config.ROLES },
        'footage is on local disk while the roles are split: processes with another DATA_DIR cannot read it; use S3 (S3_*) or one DATA_DIR',
      );
    const url = config.ROLES.includes('api') ? await startHttp(services, lifetime) : null;
    let ingest: IngestManager | null = null;
    if (config.ROLES.includes('ingest')) {
      // Each camera's single pull records into the spool; live video is relayed only while watched.
      services.streamOutputs.register(services.recording.output);
      ingest = await lifetime.start(services.supervision());
    }
    return { services, url, ingest, close: () => lifetime.close() };
  } catch (err) {
    await lifetime.close();
    throw err;
  }
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { API_BASE, createHttpApp } from './api/http.js';
import { openApiDocument } from './api/openapi.js';
import { accessRoutes } from './api/routes/access.js';
import { batchExportRoutes } from './api/routes/batch-exports.js';
import { batchRoutes } from './api/routes/batches.js';
import { cameraRoutes } from './api/routes/cameras.js';
import { operationRoutes } from './api/routes/operations.js';
import { recordingRoutes } from './api/routes/recordings.js';
import { siteRoutes } from './api/routes/sites.js';
import { alertRoutes } from './api/routes/alerts.js';
import { mountSupervisorPage } from './api/live-web.js';
import { startAlerting } from './alerts/start.js';
import type { AlertEngine } from './alerts/engine.js';
import { systemClock, type Clock } from './platform/clock.js';
import { IngestManager } from './ingest/ingest-manager.js';
import { registerIngestMetrics } from './ingest/metrics.js';
import { createLogger, type Logger } from './platform/logger.js';
import { createServices, type Services } from './services.js';

export interface RunningService {
  services: Services;
  /** Base URL of the HTTP server, when this process runs the API role. */
  url: string | null;
  /** The camera supervision, when this process runs the ingest role. */
  ingest: IngestManager | null;
  close(): Promise<void>;
}

async function readiness(s: Services) {
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

/** Starts the roles this process runs (api, ingest, worker) on one set of services. */
export async function startService(
  config: Config,
  opts: { log?: Logger; clock?: Clock } = {},
): Promise<RunningService> {
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const services = await createServices(config, log, opts.clock ?? systemClock);
  let server: http.Server | null = null;

  if (config.ROLES.includes('api')) {
    const routes = [
      ...accessRoutes(services),
      ...siteRoutes(services),
      ...cameraRoutes(services),
      ...batchRoutes(services),
      ...batchExportRoutes(services),
      ...operationRoutes(services),
      ...alertRoutes(services),
      ...recordingRoutes(services),
    ];
    const doc = openApiDocument(routes, API_BASE);
    const app = createHttpApp({
      routes,
      users: services.users,
      metrics: services.metrics,
      log,
      bodyLimit: config.BODY_LIMIT_BYTES,
      mount: (a) => {
        a.get('/healthz', (_req, res) => res.json({ ok: true }));
        services.liveView.mount(a);
        mountSupervisorPage(a);
        a.get(['/readyz', `${API_BASE}/readyz`], async (_req, res) => {
          const r = await readiness(services);
          res.status(r.ready ? 200 : 503).json(r);
        });
        a.get('/metrics', async (_req, res) => {
          res.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
        });
        a.get(`${API_BASE}/openapi.json`, (_req, res) => res.json(doc));
      },
    });
    server = http.createServer(app);
    services.live.attach(server);
    services.liveView.attach(server);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.PORT, config.HOST, resolve);
    });
    const { port } = server.address() as AddressInfo;
    log.info({ port, database: services.db.kind, store: services.store.kind }, 'API listening');
  }

  // Recording: spool reconciliation and the status listener with ingest; store job and sweep with workers.
  void services.recording.checkStore();
  if (config.ROLES.includes('ingest')) await services.recording.startIngest();
  if (config.ROLES.includes('worker')) await services.recording.startWorker();

  let alertEngine: AlertEngine | null = null;
  if (config.ROLES.includes('worker')) alertEngine = await startAlerting(services);

  // Batches: export builds and the readiness check before each session.
  const stopBatchWork = config.ROLES.includes('worker') ? services.batchOps.startWorkers() : null;

  // Ingest: camera leases and one stream supervisor per owned camera.
  registerIngestMetrics(services.metrics.registry, services);
  let ingest: IngestManager | null = null;
  if (config.ROLES.includes('ingest')) {
    // Live view: each camera's single pull also pushes FLV to the media server.
    if (services.mediaServer) services.streamOutputs.register(services.liveOutput);
    ingest = new IngestManager(services);
    await ingest.start();
  }

  const address = server?.address() as AddressInfo | undefined;
  return {
    services,
    url: address ? `http://127.0.0.1:${address.port}` : null,
    ingest,
    close: async () => {
      await ingest?.stop();
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await alertEngine?.close();
      stopBatchWork?.();
      await services.close();
    },
  };
}

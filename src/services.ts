import { createHmac } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { UserService } from './access/users.js';
import { AlertStore } from './alerts/alerts.js';
import { LiveEventLog } from './alerts/live-events.js';
import { AlertService } from './alerts/service.js';
import { LiveHub } from './api/live.js';
import { LiveView } from './api/live-media.js';
import { MediaServer } from './api/live-media-server.js';
import { AuditLog } from './audit/audit-log.js';
import { CameraRegistry } from './ingest/cameras.js';
import { LiveOutput } from './ingest/live-output.js';
import { CameraDiscovery } from './ingest/discovery.js';
import { Ffprobe } from './ingest/ffprobe.js';
import { CameraOnboarding } from './ingest/onboarding.js';
import { OnvifClient } from './ingest/onvif-client.js';
import { ProcessSupervisor } from './ingest/process-supervisor.js';
import { CameraSnapshots } from './ingest/snapshots.js';
import { StreamOutputs } from './ingest/stream-outputs.js';
import { systemClock, type Clock } from './platform/clock.js';
import { openDb, type Db } from './platform/db.js';
import { EventBus } from './platform/event-bus.js';
import { JobQueues } from './platform/jobs.js';
import type { Logger } from './platform/logger.js';
import { createMetrics, type Metrics } from './platform/metrics.js';
import { connectRedis, resolveRedis, type Redis } from './platform/redis.js';
import { loadSecretKey, SecretBox } from './platform/secret-box.js';
import { LocalFootageStore, type FootageStore } from './recording/footage-store.js';
import { Recording } from './recording/recording.js';
import { S3FootageStore } from './recording/s3-footage-store.js';
import { createBatchOps, type BatchOps } from './sites/batch-services.js';
import { BatchService } from './sites/batches.js';
import { SiteService } from './sites/sites.js';
import { UnitService } from './sites/units.js';

/** Everything the API, ingest and workers share; built once per process. */
export interface Services {
  config: Config;
  log: Logger;
  clock: Clock;
  db: Db;
  redis: Redis;
  redisUrl: string;
  metrics: Metrics;
  events: EventBus;
  jobs: JobQueues;
  store: FootageStore;
  /** Recording: the supervisor's `output` provider, store job, retention, playback. */
  recording: Recording;
  audit: AuditLog;
  users: UserService;
  units: UnitService;
  sites: SiteService;
  batches: BatchService;
  /** Batch footage, report, verify, exports, readiness, dispatch, spot checks (issue 6). */
  batchOps: BatchOps;
  cameras: CameraRegistry;
  onboarding: CameraOnboarding;
  /** Spawns and watches every ffmpeg/ffprobe of this process. */
  processes: ProcessSupervisor;
  onvif: OnvifClient;
  /** Consumers of each camera's single pull (recording, live view) register here. */
  streamOutputs: StreamOutputs;
  discovery: CameraDiscovery;
  snapshots: CameraSnapshots;
  /** Numbered log of events pushed to live clients. */
  liveEvents: LiveEventLog;
  /** socket.io hub (/live); in every process, attached to HTTP in the api role. */
  live: LiveHub;
  alerts: AlertService;
  liveView: LiveView;
  /** The media server, in the process that runs the ingest role. */
  mediaServer: MediaServer | null;
  /** The stream supervisor's live output (FLV push to the media server). */
  liveOutput: LiveOutput;
  close(): Promise<void>;
}

export async function createServices(
  config: Config,
  log: Logger,
  clock: Clock = systemClock,
): Promise<Services> {
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const db = await openDb(
      { databaseUrl: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, dataDir: config.DATA_DIR },
      log,
    );
    closers.push(() => db.close());
    const redisEndpoint = await resolveRedis(
      { redisUrl: config.REDIS_URL, dataDir: config.DATA_DIR, serverPath: config.REDIS_SERVER_PATH },
      log,
    );
    closers.push(() => redisEndpoint.close());
    const redis = connectRedis(redisEndpoint.url);
    redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
    closers.push(() => redis.quit().catch(() => redis.disconnect()));

    const events = new EventBus(redis, redisEndpoint.url, `ess:${config.DATABASE_SCHEMA}:events`, log);
    await events.start();
    closers.push(() => events.close());

    const jobs = new JobQueues(redisEndpoint.url, `ess:${config.DATABASE_SCHEMA}:jobs`, log);
    closers.push(() => jobs.close());

    const secretKey = await loadSecretKey(config.SECRET_KEY, config.DATA_DIR);
    const secrets = new SecretBox(secretKey);
    const derivedKey = (purpose: string) => createHmac('sha256', secretKey).update(purpose).digest();
    const audit = new AuditLog(db, clock);
    const users = new UserService(db, audit, clock, redis, {
      tokenTtlHours: config.TOKEN_TTL_HOURS,
      maxFailures: config.LOGIN_MAX_FAILURES,
      blockSeconds: config.LOGIN_BLOCK_SECONDS,
      limiterPrefix: `ess:${config.DATABASE_SCHEMA}`,
    });
    await users.bootstrapAdmin(config.ADMIN_PASSWORD, log);
    const sites = new SiteService(db, audit);
    const cameras = new CameraRegistry(db, audit, sites, secrets, clock);
    const processes = new ProcessSupervisor(log);
    closers.push(() => processes.stopAll());
    const onvif = new OnvifClient(config.ONVIF_TIMEOUT_MS);
    const ffprobe = new Ffprobe(processes, config.FFPROBE_PATH, config.PROBE_TIMEOUT_MS);
    const prefix = `ess:${config.DATABASE_SCHEMA}`;
    const liveEvents = new LiveEventLog(db, clock);
    const live = new LiveHub({
      events: liveEvents,
      users,
      log,
      redisUrl: redisEndpoint.url,
      key: `${prefix}:sio`,
    });
    closers.push(() => live.close());
    const alerts = new AlertService(new AlertStore(db, audit, clock), liveEvents, live, jobs, db, {
      url: config.WEBHOOK_URL,
      secret: config.WEBHOOK_SECRET,
    });
    const publishSecret = derivedKey('nms-publish-v1').toString('hex');
    let mediaServer: MediaServer | null = null;
    if (config.ROLES.includes('ingest')) {
      mediaServer = await MediaServer.acquire({
        rtmpPort: config.LIVE_RTMP_PORT,
        httpPort: config.LIVE_HTTP_PORT,
        publishSecret,
        log,
      });
      const acquired = mediaServer;
      closers.push(() => acquired.release());
    }
    const liveOutput = new LiveOutput({
      rtmpBase: () => (mediaServer ? `rtmp://127.0.0.1:${mediaServer.info.rtmpPort}` : null),
      secret: publishSecret,
    });
    const liveView = new LiveView({
      db,
      cameras,
      audit,
      clock,
      log,
      key: derivedKey('live-view-v1'),
      ttlSeconds: config.LIVE_URL_TTL_SECONDS,
      mediaUrl: () => config.LIVE_MEDIA_URL ?? mediaServer?.httpUrl ?? null,
    });
    const store: FootageStore =
      config.S3_ENDPOINT && config.S3_ACCESS_KEY && config.S3_SECRET_KEY && config.S3_BUCKET
        ? new S3FootageStore({
            endpoint: config.S3_ENDPOINT,
            accessKey: config.S3_ACCESS_KEY,
            secretKey: config.S3_SECRET_KEY,
            bucket: config.S3_BUCKET,
            region: config.S3_REGION,
          })
        : new LocalFootageStore(path.join(config.DATA_DIR, 'footage'));
    const metrics = createMetrics();
    const recording = new Recording({ config, log, clock, db, events, jobs, store, audit, metrics });
    closers.push(() => recording.close());
    const batches = new BatchService(db, audit, clock);
    const batchOps = await createBatchOps({
      config,
      db,
      audit,
      clock,
      events,
      jobs,
      store,
      batches,
      recording,
      log,
    });

    return {
      config,
      log,
      clock,
      db,
      redis,
      redisUrl: redisEndpoint.url,
      metrics,
      events,
      jobs,
      store,
      recording,
      audit,
      users,
      units: new UnitService(db, audit),
      sites,
      batches,
      batchOps,
      cameras,
      onboarding: new CameraOnboarding(cameras, {
        onvif,
        ffprobe,
        probeOnRegister: config.PROBE_ON_REGISTER,
      }),
      processes,
      onvif,
      streamOutputs: new StreamOutputs(),
      discovery: new CameraDiscovery(onvif, { device: config.DISCOVERY_INTERFACE, defaultTimeoutMs: 3000 }),
      snapshots: new CameraSnapshots(db, cameras, audit, processes, {
        ffmpegPath: config.FFMPEG_PATH,
        timeoutMs: config.PROBE_TIMEOUT_MS,
        sample: { width: config.PICTURE_SAMPLE_WIDTH, height: config.PICTURE_SAMPLE_HEIGHT },
      }),
      liveEvents,
      live,
      alerts,
      liveView,
      mediaServer,
      liveOutput,
      close: async () => {
        for (const close of closers.reverse())
          await close().catch((err) => log.warn({ err }, 'close failed'));
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

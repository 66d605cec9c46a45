import { createHmac } from 'node:crypto';
import type { Config } from '../../config/schema.js';
import type { Clock } from './clock.js';
import { limitConcurrency, openDb, type Db } from './db.js';
import { Deployment } from './deployment.js';
import { EventBus } from './event-bus.js';
import { JobQueues, type JobMap, type Jobs } from './jobs.js';
import type { Lifetime } from './lifecycle.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { connectRedis, resolveRedis, type Redis } from './redis.js';
import { RedisKeys } from './redis-keys.js';
import { loadSecretKey, SecretBox } from './secret-box.js';

/**
 * What every module builds on: storage, messaging, secrets and this deployment's identity. `E` is the
 * event map of the bus, `J` the job map of the queues; a module asks for the events it publishes and
 * hears and the jobs it runs (`Platform<ItsEvents, ItsJobs>`).
 */
export interface Platform<E = object, J extends JobMap = object> {
  config: Config;
  log: Logger;
  clock: Clock;
  db: Db;
  /** `db` for background writers (the segment index): half the pool at most; requests keep the rest. */
  backgroundDb: Db;
  deployment: Deployment;
  redis: Redis;
  redisUrl: string;
  /** This deployment's Redis namespace (keys, channels, queues). */
  keys: RedisKeys;
  events: EventBus<E>;
  jobs: Jobs<J>;
  metrics: Metrics;
  secrets: SecretBox;
  /** A key for one purpose, derived from SECRET_KEY, the same in every process of the deployment. */
  derivedKey(purpose: string): Buffer;
}

/** Opens the database, Redis, the event bus and job queues; each is closed with `lifetime`. */
export async function openPlatform<E, J extends JobMap>(
  config: Config,
  log: Logger,
  clock: Clock,
  lifetime: Lifetime,
): Promise<Platform<E, J>> {
  const db = lifetime.own(
    await openDb(
      {
        databaseUrl: config.DATABASE_URL,
        schema: config.DATABASE_SCHEMA,
        dataDir: config.DATA_DIR,
        poolSize: config.DATABASE_POOL_SIZE,
      },
      log,
    ),
  );
  const deployment = await Deployment.open(db);
  const keys = new RedisKeys(deployment.id);
  const endpoint = lifetime.own(
    await resolveRedis(
      { redisUrl: config.REDIS_URL, dataDir: config.DATA_DIR, serverPath: config.REDIS_SERVER_PATH },
      log,
    ),
  );
  const redis = connectRedis(endpoint.url);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  lifetime.own({ close: () => redis.quit().catch(() => redis.disconnect()) });
  const events = await lifetime.start(new EventBus<E>(redis, endpoint.url, keys.key('events'), log));
  const jobs = lifetime.own(new JobQueues<J>(endpoint.url, keys.key('jobs'), log));
  const secretKey = await loadSecretKey(config.SECRET_KEY, config.DATA_DIR);
  await deployment.bindSecretKey(secretKey);
  return {
    config,
    log,
    clock,
    db,
    backgroundDb: limitConcurrency(db, Math.max(1, Math.floor(config.DATABASE_POOL_SIZE / 2))),
    deployment,
    redis,
    redisUrl: endpoint.url,
    keys,
    events,
    jobs,
    metrics: createMetrics(),
    secrets: new SecretBox(secretKey),
    derivedKey: (purpose) => createHmac('sha256', secretKey).update(purpose).digest(),
  };
}

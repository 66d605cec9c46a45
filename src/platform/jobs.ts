import { Queue, Worker, type Job, type JobsOptions, type WorkerOptions } from 'bullmq';
import type { Logger } from './logger.js';
import { connectRedis, type Redis } from './redis.js';

/**
 * Every background job: name → payload. Payloads carry ids, not data; handlers are idempotent.
 * Each module adds its own jobs here.
 */
export interface JobPayloads {
  /** Round trip through a queue and a worker; used to check that BullMQ works end to end. */
  'system.ping': { at: string };
  /** Upload a camera's ready spool segments in order (one job per camera at a time). */
  'segment.store': { cameraId: string };
  /** Delete expired footage and relieve storage pressure (repeatable). */
  'retention.sweep': { reason?: string };
  /** Builds a batch export archive (issue 6). */
  'export.build': { exportId: string };
  /** POST one alert event (by its live event seq) to the configured webhook. */
  'alerts.webhook': { seq: number };
}
export type JobName = keyof JobPayloads;

/** BullMQ queues and workers of one deployment, namespaced by prefix so deployments sharing Redis stay apart. */
export class JobQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];

  constructor(
    private readonly redisUrl: string,
    readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** One queue per job name. */
  queue<K extends JobName>(name: K): Queue<JobPayloads[K]> {
    let q = this.queues.get(name);
    if (!q) {
      const connection = connectRedis(this.redisUrl);
      this.connections.push(connection);
      q = new Queue(name, { connection, prefix: this.prefix });
      q.on('error', (err) => this.log.warn({ err: err.message, queue: name }, 'queue error'));
      this.queues.set(name, q);
    }
    return q as unknown as Queue<JobPayloads[K]>;
  }

  async add<K extends JobName>(name: K, payload: JobPayloads[K], opts?: JobsOptions): Promise<void> {
    await this.queue(name).add(name as never, payload as never, {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
      ...opts,
    });
  }

  /** Starts a worker for one job name; closed with the rest on close(). */
  work<K extends JobName>(
    name: K,
    handler: (payload: JobPayloads[K], job: Job<JobPayloads[K]>) => Promise<unknown>,
    opts: Omit<WorkerOptions, 'connection' | 'prefix'> = {},
  ): Worker<JobPayloads[K]> {
    const connection = connectRedis(this.redisUrl, { forWorker: true });
    this.connections.push(connection);
    const worker = new Worker<JobPayloads[K]>(name, (job) => handler(job.data, job), {
      connection,
      prefix: this.prefix,
      ...opts,
    });
    worker.on('error', (err) => this.log.warn({ err: err.message, queue: name }, 'worker error'));
    worker.on('failed', (job, err) =>
      this.log.warn({ err: err.message, queue: name, jobId: job?.id }, 'job failed'),
    );
    this.workers.push(worker);
    return worker;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

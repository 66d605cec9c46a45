import { Queue, Worker, type Job, type JobsOptions, type WorkerOptions } from 'bullmq';
import type { Logger } from './logger.js';
import { connectRedis, type Redis } from './redis.js';

/**
 * Background jobs, typed by a map of job name → payload that the modules declare (each its own, in
 * its `jobs.ts`) and the service composes. Payloads carry ids, not data; handlers are idempotent.
 */
export type JobMap = object;
type JobName<J> = keyof J & string;
type WorkOptions = Omit<WorkerOptions, 'connection' | 'prefix'>;

/** A module's view of the queues: its own jobs only (the service's queues hold every module's). */
export interface Jobs<J extends JobMap> {
  add<K extends JobName<J>>(name: K, payload: J[K], opts?: JobsOptions, lane?: string): Promise<void>;
  /** Works one job name (and lane) in this process until the queues close. */
  work<K extends JobName<J>>(
    name: K,
    handler: (payload: J[K], job: { attemptsMade: number }) => Promise<unknown>,
    opts?: WorkOptions,
    lane?: string,
  ): void;
  /** Runs a job every `everyMs`, once across the deployment (the BullMQ job scheduler `schedulerId`). */
  every<K extends JobName<J>>(schedulerId: string, name: K, everyMs: number, payload: J[K]): Promise<void>;
  /** Waiting, active, delayed and failed jobs of one queue. */
  counts(name: JobName<J>, lane?: string): Promise<Record<string, number>>;
}

/** A job's queue: the job name, or on a lane `<name>.<lane>`. */
const queueName = (name: string, lane?: string) => (lane ? `${name}.${lane}` : name);

/** BullMQ queues and workers of one deployment, namespaced by prefix so deployments sharing Redis stay apart. */
export class JobQueues<J extends JobMap> implements Jobs<J> {
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  private readonly connections: Redis[] = [];

  constructor(
    private readonly redisUrl: string,
    readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /**
   * One queue per job name, or per job name and lane: a lane is a queue only one host works, for jobs
   * that need that host's local files (a spool's segments are uploaded by the process that has them).
   */
  private queue<K extends JobName<J>>(name: K, lane?: string): Queue<J[K]> {
    const qn = queueName(name, lane);
    let q = this.queues.get(qn);
    if (!q) {
      const connection = connectRedis(this.redisUrl);
      this.connections.push(connection);
      q = new Queue(qn, { connection, prefix: this.prefix });
      q.on('error', (err) => this.log.warn({ err: err.message, queue: qn }, 'queue error'));
      this.queues.set(qn, q);
    }
    return q as unknown as Queue<J[K]>;
  }

  async add<K extends JobName<J>>(name: K, payload: J[K], opts?: JobsOptions, lane?: string): Promise<void> {
    await this.queue(name, lane).add(name as never, payload as never, {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
      ...opts,
    });
  }

  /** Starts a worker for one job name (and lane); closed with the rest on close(). */
  work<K extends JobName<J>>(
    name: K,
    handler: (payload: J[K], job: Job<J[K]>) => Promise<unknown>,
    opts: WorkOptions = {},
    lane?: string,
  ): void {
    const connection = connectRedis(this.redisUrl, { forWorker: true });
    this.connections.push(connection);
    const qn = queueName(name, lane);
    const worker = new Worker<J[K]>(qn, (job) => handler(job.data, job), {
      connection,
      prefix: this.prefix,
      ...opts,
    });
    worker.on('error', (err) => this.log.warn({ err: err.message, queue: qn }, 'worker error'));
    worker.on('failed', (job, err) =>
      this.log.warn({ err: err.message, queue: qn, jobId: job?.id }, 'job failed'),
    );
    this.workers.push(worker);
  }

  async every<K extends JobName<J>>(
    schedulerId: string,
    name: K,
    everyMs: number,
    payload: J[K],
  ): Promise<void> {
    // BullMQ derives a queue's name type from its payload type; this queue holds one job name.
    const queue = this.queue(name) as unknown as Queue;
    await queue.upsertJobScheduler(schedulerId, { every: everyMs }, { name, data: payload });
  }

  counts(name: JobName<J>, lane?: string): Promise<Record<string, number>> {
    return this.queue(name, lane).getJobCounts('waiting', 'active', 'delayed', 'failed');
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

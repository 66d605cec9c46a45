import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { Redis } from '../platform/redis.js';
import type { RedisKeys } from '../platform/redis-keys.js';

/** What one ingest process's spool looks like now, as it reports it. */
export interface SpoolReport {
  spoolId: string;
  host: string;
  /** Free space on the spool's disk, MB. */
  freeMb: number;
  /** Bytes of footage waiting in the spool. */
  bytes: number;
  /** Cameras with footage in the spool. */
  cameras: number;
  /** Over SPOOL_MAX_BYTES: the oldest footage outside sessions is being dropped. */
  pressure: boolean;
  at: number;
}

/**
 * The spools of every ingest process, reported through Redis: a readiness check in an API or worker
 * process judges the disks where footage is actually written, not its own.
 */
export class SpoolBoard {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** A report older than this is from a process that is gone. */
    private readonly staleMs: number,
  ) {}

  private get hash(): string {
    return this.keys.key('spools');
  }

  async report(r: Omit<SpoolReport, 'host' | 'freeMb' | 'at'> & { root: string }): Promise<void> {
    const fs = await statfs(r.root);
    const { root: _root, ...facts } = r;
    const report: SpoolReport = {
      ...facts,
      host: os.hostname(),
      freeMb: Math.floor((fs.bavail * fs.bsize) / 2 ** 20),
      at: Date.now(),
    };
    await this.redis.hset(this.hash, r.spoolId, JSON.stringify(report));
  }

  async withdraw(spoolId: string): Promise<void> {
    await this.redis.hdel(this.hash, spoolId);
  }

  /** Reports of the spools alive now; stale ones are dropped. */
  async list(): Promise<SpoolReport[]> {
    const all = await this.redis.hgetall(this.hash);
    const now = Date.now();
    const alive: SpoolReport[] = [];
    for (const [id, json] of Object.entries(all)) {
      const r = JSON.parse(json) as SpoolReport;
      if (now - r.at > this.staleMs) await this.redis.hdel(this.hash, id);
      else alive.push(r);
    }
    return alive;
  }
}

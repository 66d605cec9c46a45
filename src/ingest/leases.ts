import type { Redis } from '../platform/redis.js';
import type { RedisKeys } from '../platform/redis-keys.js';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Camera ownership between ingest processes sharing one Redis: a camera is pulled only by the
 * process holding its lease (SET NX PX), renewed while the process lives. A dead process's leases
 * expire and the others take its cameras.
 */
export class CameraLeases {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    readonly owner: string,
    readonly leaseMs: number,
  ) {}

  private get members(): string {
    return this.keys.key('ingest', 'members');
  }

  private key(cameraId: string): string {
    return this.keys.key('lease', 'camera', cameraId);
  }

  async acquire(cameraId: string): Promise<boolean> {
    return (await this.redis.set(this.key(cameraId), this.owner, 'PX', this.leaseMs, 'NX')) === 'OK';
  }

  /** Renews the given leases; returns those still ours. */
  async renew(cameraIds: string[]): Promise<Set<string>> {
    if (cameraIds.length === 0) return new Set();
    const pipe = this.redis.pipeline();
    for (const id of cameraIds) pipe.eval(RENEW, 1, this.key(id), this.owner, String(this.leaseMs));
    const results = (await pipe.exec()) ?? [];
    return new Set(cameraIds.filter((_, i) => results[i]?.[0] === null && Number(results[i]?.[1]) === 1));
  }

  async release(cameraId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key(cameraId), this.owner);
  }

  holder(cameraId: string): Promise<string | null> {
    return this.redis.get(this.key(cameraId));
  }

  /** Announces this process as a live ingest member; returns how many members are alive. */
  async heartbeat(now: number): Promise<number> {
    const key = this.members;
    const [, , count] =
      (await this.redis
        .multi()
        .zadd(key, now + this.leaseMs, this.owner)
        .zremrangebyscore(key, '-inf', now)
        .zcard(key)
        .exec()) ?? [];
    return Math.max(1, Number(count?.[1] ?? 1));
  }

  async leave(): Promise<void> {
    await this.redis.zrem(this.members, this.owner);
  }
}

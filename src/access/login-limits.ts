import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../platform/errors.js';
import type { RedisKeys } from '../platform/redis-keys.js';

export interface LoginLimitOptions {
  /** Failures of one account from one address before that pair is blocked. */
  maxFailures: number;
  /** Window of every failure count, and length of a block. */
  blockSeconds: number;
  /** The deployment's Redis keys. */
  keys: RedisKeys;
}

/** Addresses that logged in to an account stay known this long after their last success. */
export const KNOWN_ADDRESS_DAYS = 30;

/**
 * Login limits that stop guessing without letting strangers lock an account's owner out:
 * - one account from one address: `maxFailures` failures, then that pair is blocked;
 * - one address across accounts: ten times that, then the address is blocked;
 * - one account across addresses: from four times that on, every further attempt from an address
 *   that never logged in to the account waits a delay that doubles with each failure (up to the
 *   block length). Addresses the account logged in from before are not delayed by it, so failures
 *   from elsewhere never keep the owner out.
 */
export class LoginLimits {
  private readonly perAccountAndAddress: RateLimiterRedis;
  private readonly perAddress: RateLimiterRedis;

  constructor(
    private readonly redis: Redis,
    private readonly o: LoginLimitOptions,
  ) {
    const common = { storeClient: redis, duration: o.blockSeconds, blockDuration: o.blockSeconds };
    this.perAccountAndAddress = new RateLimiterRedis({
      ...common,
      keyPrefix: o.keys.key('login', 'acct-addr'),
      points: o.maxFailures,
    });
    this.perAddress = new RateLimiterRedis({
      ...common,
      keyPrefix: o.keys.key('login', 'addr'),
      points: o.maxFailures * 10,
    });
  }

  private accountKey = (account: string) => this.o.keys.key('login', 'acct-delay', account);
  private knownKey = (account: string) => this.o.keys.key('login', 'known', account);
  private get delayAfter(): number {
    return this.o.maxFailures * 4;
  }

  /** Throws 429 when this attempt may not be checked now. */
  async check(account: string, address: string): Promise<void> {
    for (const [limiter, key] of this.pairs(account, address)) {
      const res = await limiter.get(key);
      if (res && res.remainingPoints <= 0) throw tooMany(res.msBeforeNext);
    }
    const until = Number(await this.redis.hget(this.accountKey(account), 'until'));
    const waitMs = until - Date.now();
    if (waitMs > 0 && !(await this.isKnown(account, address))) throw tooMany(waitMs);
  }

  /** Counts a failed attempt; throws 429 when it used up a limit. */
  async failed(account: string, address: string): Promise<void> {
    const key = this.accountKey(account);
    const [[, n]] = (await this.redis
      .multi()
      .hincrby(key, 'n', 1)
      .expire(key, this.o.blockSeconds)
      .exec()) as [[null, number], unknown];
    if (n >= this.delayAfter) {
      const delayMs = Math.min(2 ** (n - this.delayAfter) * 1000, this.o.blockSeconds * 1000);
      await this.redis.hset(key, 'until', Date.now() + delayMs);
    }
    try {
      for (const [limiter, key2] of this.pairs(account, address)) await limiter.consume(key2);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw tooMany(res.msBeforeNext);
      throw res;
    }
  }

  /** A success: the pair's failures are forgotten and the address becomes known for the account. */
  async succeeded(account: string, address: string): Promise<void> {
    await this.perAccountAndAddress.delete(`${account}|${address}`);
    await this.redis
      .multi()
      .sadd(this.knownKey(account), address)
      .expire(this.knownKey(account), KNOWN_ADDRESS_DAYS * 86_400)
      .exec();
  }

  private async isKnown(account: string, address: string): Promise<boolean> {
    return (await this.redis.sismember(this.knownKey(account), address)) === 1;
  }

  private pairs(account: string, address: string): [RateLimiterRedis, string][] {
    return [
      [this.perAccountAndAddress, `${account}|${address}`],
      [this.perAddress, address],
    ];
  }
}

function tooMany(ms: number): TooManyRequestsError {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return new TooManyRequestsError(`too many failed logins; try again in ${seconds} s`, seconds);
}

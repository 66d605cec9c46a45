import { createHash, randomBytes } from 'node:crypto';

/**
 * A reproducible random source: the n-th draw is SHA-256(seed ":" n). Anyone holding the recorded
 * seed can replay a draw with any SHA-256 implementation, which is what makes it checkable as fair.
 */
export class SeededRandom {
  private counter = 0;
  constructor(readonly seed: string) {}

  /** Uniform in [0, 1), 48 bits. */
  next(): number {
    const digest = createHash('sha256').update(`${this.seed}:${this.counter++}`).digest();
    return digest.readUIntBE(0, 6) / 2 ** 48;
  }

  /** Uniform integer in [0, n). */
  index(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: T[]): T {
    if (items.length === 0) throw new Error('cannot pick from nothing');
    return items[this.index(items.length)]!;
  }
}

export const newSeed = (): string => randomBytes(16).toString('hex');

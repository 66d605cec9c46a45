import type { Logger } from './logger.js';

/**
 * The one shape of every long-lived part: `start()` begins its timers, subscriptions, workers and
 * child processes; `close()` releases all of them, so a closed service leaves no handle behind.
 */
export interface Lifecycle {
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Anything that must be released when the service stops. */
export interface Closable {
  close(): Promise<unknown>;
}

/**
 * What one service instance holds open. Parts are closed newest first, so a part is closed before
 * the things it was built on; a close that fails is logged and the rest still close.
 */
export class Lifetime {
  private readonly parts: Closable[] = [];

  constructor(private readonly log: Logger) {}

  /** Registers a part to be closed with the service; returns it. */
  own<T extends Closable>(part: T): T {
    this.parts.push(part);
    return part;
  }

  /** Starts a part and registers it; a part that fails to start is not registered. */
  async start<T extends Lifecycle>(part: T): Promise<T> {
    await part.start();
    return this.own(part);
  }

  async close(): Promise<void> {
    for (let part = this.parts.pop(); part; part = this.parts.pop())
      await part.close().catch((err: unknown) => this.log.warn({ err }, 'close failed'));
  }
}

import { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';
import { connectRedis, type Redis } from './redis.js';

/** Publishes events of the map `E` (event name → payload). */
export interface EventPublisher<E> {
  publish<K extends keyof E & string>(name: K, payload: E[K]): Promise<void>;
}

/** Subscribes to events of the map `E`; the returned function unsubscribes. */
export interface EventSubscriber<E> {
  on<K extends keyof E & string>(name: K, handler: (payload: E[K]) => void): () => void;
}

/**
 * Publish/subscribe over Redis, so an event raised in one process reaches handlers in all (ingest,
 * recording, alerts and batches may run in separate processes). Typed by an event map `E`: each
 * module declares the events it emits with its own types, and the service composes them; the
 * platform knows none of them. A module takes the narrow side it uses (`EventPublisher<ItsEvents>`,
 * `EventSubscriber<EventsItHears>`).
 */
export class EventBus<E> implements EventPublisher<E>, EventSubscriber<E> {
  private readonly local = new EventEmitter();
  private subscriber: Redis | null = null;

  constructor(
    private readonly publisher: Redis,
    private readonly redisUrl: string,
    /** Keeps deployments (and test databases) sharing one Redis apart. */
    private readonly channel: string,
    private readonly log: Logger,
  ) {
    this.local.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.subscriber = connectRedis(this.redisUrl);
    this.subscriber.on('error', (err) => this.log.warn({ err: err.message }, 'event bus redis error'));
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        const { name, payload } = JSON.parse(message) as { name: string; payload: unknown };
        this.local.emit(name, payload);
      } catch (err) {
        this.log.warn({ err }, 'dropped a malformed event');
      }
    });
    await this.subscriber.subscribe(this.channel);
  }

  async publish<K extends keyof E & string>(name: K, payload: E[K]): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify({ name, payload }));
  }

  on<K extends keyof E & string>(name: K, handler: (payload: E[K]) => void): () => void {
    this.local.on(name, handler);
    return () => this.local.off(name, handler);
  }

  async close(): Promise<void> {
    this.local.removeAllListeners();
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
  }
}

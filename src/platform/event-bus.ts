import { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';
import { connectRedis, type Redis } from './redis.js';

/**
 * Internal events between the ingest, recording, alert and API parts, which may run in separate
 * processes. Payload types live with the module that emits them; this map names them all.
 */
export interface DomainEvents {
  /** A camera's supervision state changed (connecting/online/degraded/offline) with a reason. */
  'camera.status': {
    cameraId: string;
    siteId: string;
    unitId: string;
    status: string;
    reason: string | null;
    at: string;
  };
  /** A health fault (picture check, clock, floor, stall) started or ended on a camera. */
  'camera.fault': {
    cameraId: string;
    siteId: string;
    unitId: string;
    kind: string;
    active: boolean;
    at: string;
    detail?: string;
  };
  /** The current health metrics of a camera (fps, bitrate, ...), about once a second. */
  'camera.health': {
    cameraId: string;
    siteId: string;
    unitId: string;
    health: Record<string, unknown>;
    at: string;
  };
  /** A recording segment was closed on the spool by the stream supervisor. */
  'segment.closed': { cameraId: string; path: string; startedAt: string; endedAt: string };
  /** A service-level fault (storage, upload, spool pressure) started or ended. */
  'service.fault': { kind: string; active: boolean; at: string; detail?: string };
  /** A batch session's readiness check failed (active) or passed again (inactive), with the problems found. */
  'session.not_ready': {
    batchId: string;
    sessionId: string;
    siteId: string;
    unitId: string;
    active: boolean;
    at: string;
    problems: string[];
  };
}
export type EventName = keyof DomainEvents;

/** Publish/subscribe over Redis, so an event raised in one process reaches handlers in all. */
export class EventBus {
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

  async publish<K extends EventName>(name: K, payload: DomainEvents[K]): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify({ name, payload }));
  }

  on<K extends EventName>(name: K, handler: (payload: DomainEvents[K]) => void): () => void {
    this.local.on(name, handler);
    return () => this.local.off(name, handler);
  }

  async close(): Promise<void> {
    this.local.removeAllListeners();
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
  }
}

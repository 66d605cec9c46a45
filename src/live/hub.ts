import type http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server, type Socket } from 'socket.io';
import type { Actor } from '../access/actor.js';
import type { UserService } from '../access/users.js';
import {
  inTarget,
  visibleTo,
  type LiveEventLog,
  type LiveScope,
  type LiveTarget,
  type ScopedLiveEvent,
} from '../alerts/live-events.js';
import type { LiveEventName, LiveEventPayloads } from '../alerts/schemas.js';
import type { LivePublisher } from '../alerts/service.js';
import type { Logger } from '../platform/logger.js';
import { connectRedis, type Redis } from '../platform/redis.js';

export const LIVE_PATH = '/live';
const FANOUT = 'ess:live-event';
/** How many delivered seqs a socket remembers to drop duplicates between replay and live push. */
const SEEN_LIMIT = 10_000;

/** A connected client: who it is, what it watches, and its delivery state. */
interface Client {
  socket: Socket;
  actor: Actor;
  targets: LiveTarget[];
  /** Subscriptions still replaying; live events wait in `held` until they are done. */
  replaying: number;
  held: ScopedLiveEvent[];
  seen: Set<number>;
}

type SubscribeMessage = { siteId?: unknown; batchId?: unknown; service?: unknown; afterSeq?: unknown };
type Ack = (reply: { ok: boolean; error?: string; lastSeq?: number; replayed?: number }) => void;

function parseTarget(m: SubscribeMessage): LiveTarget | null {
  if (typeof m.siteId === 'string' && m.siteId.length <= 64) return { siteId: m.siteId };
  if (typeof m.batchId === 'string' && m.batchId.length <= 64) return { batchId: m.batchId };
  if (m.service === true) return { service: true };
  return null;
}

/**
 * socket.io at /live. Every process has a hub: it numbers events in the event log and fans them out
 * to the other processes through the socket.io Redis adapter (server-side emit); each process then
 * delivers to its own clients, in seq order, filtered by their subscriptions and what they may see.
 */
export class LiveHub implements LivePublisher {
  readonly io: Server;
  private readonly clients = new Map<string, Client>();
  private readonly redis: Redis[] = [];

  constructor(
    private readonly deps: {
      events: LiveEventLog;
      users: UserService;
      log: Logger;
      redisUrl: string;
      key: string;
    },
  ) {
    this.io = new Server({
      path: LIVE_PATH,
      serveClient: false,
      // Other upgrade requests on the same HTTP server (WS-FLV) are not socket.io's to refuse.
      destroyUpgrade: false,
      cors: { origin: true, credentials: true },
    });
    const pub = connectRedis(deps.redisUrl);
    const sub = connectRedis(deps.redisUrl);
    for (const r of [pub, sub])
      r.on('error', (err) => deps.log.warn({ err: err.message }, 'live hub redis error'));
    this.redis.push(pub, sub);
    this.io.adapter(createAdapter(pub, sub, { key: deps.key }));
    this.io.on(FANOUT, (e: ScopedLiveEvent) => this.deliverAll(e));
    this.io.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      if (typeof token !== 'string') return next(new Error('unauthorized'));
      deps.users.authenticate(token).then(
        (actor) => {
          socket.data.actor = actor;
          next();
        },
        () => next(new Error('unauthorized')),
      );
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  /** Serves /live on the API's HTTP server. */
  private attached = false;

  attach(server: http.Server): void {
    this.attached = true;
    this.io.attach(server);
  }

  async publish<K extends LiveEventName>(
    name: K,
    scope: LiveScope,
    payload: LiveEventPayloads[K],
  ): Promise<ScopedLiveEvent> {
    const scoped = await this.deps.events.append(name, scope, payload);
    this.deliverAll(scoped);
    this.io.serverSideEmit(FANOUT, scoped);
    return scoped;
  }

  get connectedClients(): number {
    return this.clients.size;
  }

  private onConnection(socket: Socket): void {
    const client: Client = {
      socket,
      actor: socket.data.actor as Actor,
      targets: [],
      replaying: 0,
      held: [],
      seen: new Set(),
    };
    this.clients.set(socket.id, client);
    socket.on('disconnect', () => this.clients.delete(socket.id));
    socket.on('subscribe', (msg: SubscribeMessage, ack?: Ack) => {
      const reply: Ack = typeof ack === 'function' ? ack : () => undefined;
      this.subscribe(client, msg ?? {}).then(reply, (err: unknown) => {
        this.deps.log.warn({ err }, 'live subscribe failed');
        reply({ ok: false, error: 'internal error' });
      });
    });
  }

  private async subscribe(
    client: Client,
    msg: SubscribeMessage,
  ): Promise<{ ok: boolean; error?: string; lastSeq?: number; replayed?: number }> {
    const target = parseTarget(msg);
    if (!target) return { ok: false, error: 'subscribe needs siteId, batchId or service: true' };
    // Not yours and does not exist look the same, as in the REST API.
    if (!(await this.deps.events.mayWatch(client.actor, target))) return { ok: false, error: 'not found' };
    const afterSeq = typeof msg.afterSeq === 'number' && msg.afterSeq >= 0 ? msg.afterSeq : null;
    client.replaying++;
    client.targets.push(target);
    let replayed = 0;
    try {
      if (afterSeq !== null) {
        for (const e of await this.deps.events.replay(client.actor, target, afterSeq)) {
          if (this.send(client, e)) replayed++;
        }
      }
    } finally {
      client.replaying--;
      if (client.replaying === 0) {
        const held = client.held.sort((a, b) => a.event.seq - b.event.seq);
        client.held = [];
        for (const e of held) this.send(client, e);
      }
    }
    return { ok: true, lastSeq: await this.deps.events.lastSeq(), replayed };
  }

  private deliverAll(e: ScopedLiveEvent): void {
    for (const client of this.clients.values()) {
      if (!client.targets.some((t) => inTarget(e.scope, t))) continue;
      if (client.replaying > 0) client.held.push(e);
      else this.send(client, e);
    }
  }

  /** Emits once per client and seq, and only what the client may see. */
  private send(client: Client, e: ScopedLiveEvent): boolean {
    if (client.seen.has(e.event.seq) || !visibleTo(client.actor, e.scope)) return false;
    client.seen.add(e.event.seq);
    if (client.seen.size > SEEN_LIMIT) client.seen.delete(client.seen.values().next().value!);
    client.socket.emit(e.event.name, e.event);
    return true;
  }

  async close(): Promise<void> {
    // socket.io's close() fails in a process that never attached a server (ingest or worker only).
    if (this.attached) {
      this.io.disconnectSockets(true);
      await new Promise<void>((resolve) => this.io.close(() => resolve()));
    }
    await Promise.all(this.redis.map((r) => r.quit().catch(() => r.disconnect())));
  }
}

import { randomUUID } from 'node:crypto';
import pRetry from 'p-retry';
import type { Clock } from '../platform/clock.js';
import { UnavailableError } from '../platform/errors.js';
import type { CameraStatusEvent, IngestEvents } from '../ingest/events.js';
import type { EventSubscriber } from '../platform/event-bus.js';
import type { RecordingEvents } from '../recording/events.js';
import type { Logger } from '../platform/logger.js';
import type { Redis } from '../platform/redis.js';
import { HEALTHY_STATUSES, type SiteService } from '../sites/sites.js';
import type { AlertRow, AlertStore } from './alerts.js';
import type { LiveEventLog } from './live-events.js';
import {
  signalFromFault,
  signalFromNotReady,
  signalFromServiceFault,
  signalsFromStatus,
  zoneSignal,
  type SessionNotReadyEvent,
  type Signal,
} from './rules.js';
import type { AlertService, LivePublisher } from './service.js';

export interface EngineOptions {
  graceMs: number;
  resolveHoldMs: number;
  flapThreshold: number;
  flapWindowMs: number;
  leaseMs: number;
  eventsRetentionHours: number;
  /** Redis key of the ownership lease; one engine per deployment evaluates. */
  leaseKey: string;
  tickMs?: number;
}

/** What the engine knows about one condition. */
interface Condition {
  signal: Signal;
  causes: Set<string>;
  /** Start of the current occurrence while the condition holds. */
  since: Date | null;
  timelineId: string | null;
  alertId: string | null;
  /** When the alert's condition last cleared; resolution waits resolveHoldMs after it. */
  clearedAt: Date | null;
}

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** The events the engine turns into conditions: each emitter's own declaration. */
export interface AlertInputs extends IngestEvents, RecordingEvents {
  'session.not_ready': SessionNotReadyEvent;
}

/**
 * Turns health signals from the event bus into alerts. A condition shorter than the grace stays a
 * blip on the timeline; one that keeps coming back within the flap window opens at once and folds
 * every return into one alert's count; an alert resolves after its condition stayed clear for the
 * hold. One engine per deployment evaluates, the holder of a Redis lease; the unique index on
 * unresolved alerts guards the hand-over.
 */
export class AlertEngine {
  private readonly conditions = new Map<string, Condition>();
  private readonly token = randomUUID();
  private owner = false;
  private chain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private readonly graceTimers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void)[] = [];
  private lastHousekeeping = 0;
  private tickQueued = false;
  private closed = false;

  constructor(
    private readonly deps: {
      redis: Redis;
      bus: EventSubscriber<AlertInputs>;
      store: AlertStore;
      alerts: AlertService;
      live: LivePublisher;
      events: LiveEventLog;
      sites: SiteService;
      clock: Clock;
      log: Logger;
    },
    private readonly opts: EngineOptions,
  ) {}

  async start(): Promise<void> {
    const { bus } = this.deps;
    this.unsubscribe = [
      bus.on('camera.status', (e) => this.enqueue(() => this.onStatus(e))),
      bus.on('camera.fault', (e) => this.enqueue(() => this.onSignals([signalFromFault(e)]))),
      bus.on('service.fault', (e) => this.enqueue(() => this.onSignals([signalFromServiceFault(e)]))),
      bus.on('session.not_ready', (e) => this.enqueue(() => this.onSignals([signalFromNotReady(e)]))),
    ];
    await this.enqueue(() => this.claim());
    const lease = setInterval(() => void this.keepLease(), Math.max(250, this.opts.leaseMs / 3));
    const tick = setInterval(() => this.queueTick(), this.opts.tickMs ?? 200);
    this.timers.push(lease, tick);
  }

  private queueTick(): void {
    // One tick waits in the queue at most: a burst of events must not pile ticks up behind it.
    if (this.tickQueued) return;
    this.tickQueued = true;
    void this.enqueue(() => {
      this.tickQueued = false;
      return this.tick();
    });
  }

  /** A tick as a condition's grace ends, not up to a tick period later (alert latency, issue 11). */
  private tickWhenGraceEnds(since: Date): void {
    const wait = since.getTime() + this.opts.graceMs - this.deps.clock.now().getTime();
    const timer = setTimeout(
      () => {
        this.graceTimers.delete(timer);
        this.queueTick();
      },
      Math.max(0, wait),
    );
    this.graceTimers.add(timer);
  }

  /**
   * The owner renews its lease at once, not behind queued events: a burst of events from many
   * cameras starting together took longer than the lease and lost it. Taking the lease (and
   * loading what it owns) stays in the queue.
   */
  private async keepLease(): Promise<void> {
    if (!this.owner) {
      await this.enqueue(() => this.claim());
      return;
    }
    const held = await this.renewLease().catch((err: unknown) => {
      // Redis unreachable: keep evaluating; the lease stands until it expires.
      this.deps.log.warn({ err }, 'alert engine lease not renewed');
      return true;
    });
    if (!held) await this.enqueue(() => this.claim());
  }

  private async renewLease(): Promise<boolean> {
    const ms = String(this.opts.leaseMs);
    return (await this.deps.redis.eval(RENEW, 1, this.opts.leaseKey, this.token, ms)) === 1;
  }

  /** True while this engine holds the lease. */
  get isOwner(): boolean {
    return this.owner;
  }

  /**
   * Runs after everything queued before it; callers (and tests) may await it. A step that finds the
   * database busy is tried again: dropped, a camera going offline during a start burst never opened
   * its alert (the capacity bench's 50-camera start ran the pool dry for 5 s).
   */
  enqueue<T>(fn: () => Promise<T>): Promise<T | undefined> {
    const step = () =>
      pRetry(fn, {
        retries: 4,
        minTimeout: 250,
        shouldRetry: (err) => err instanceof UnavailableError && !this.closed,
      });
    const next = this.chain.then(step).catch((err: unknown) => {
      this.deps.log.error({ err }, 'alert engine step failed');
      return undefined;
    });
    this.chain = next;
    return next;
  }

  private async claim(): Promise<void> {
    const held = this.owner
      ? await this.renewLease()
      : (await this.deps.redis.set(this.opts.leaseKey, this.token, 'PX', this.opts.leaseMs, 'NX')) === 'OK';
    if (held && !this.owner) {
      this.owner = true;
      await this.load();
      this.deps.log.info('alert engine owns evaluation');
    } else if (!held && this.owner) {
      this.owner = false;
      this.conditions.clear();
      this.deps.log.warn('alert engine lost its lease');
    }
  }

  /** Unresolved alerts from before this engine took over: kept, so their conditions fold and clear. */
  private async load(): Promise<void> {
    this.conditions.clear();
    for (const row of await this.deps.store.unresolved()) {
      this.conditions.set(row.dedupe_key, {
        signal: signalOfRow(row),
        causes: new Set(),
        since: null,
        timelineId: null,
        alertId: row.id,
        clearedAt: row.cleared_at ?? this.deps.clock.now(),
      });
    }
  }

  private async onStatus(e: CameraStatusEvent): Promise<void> {
    if (!this.owner) return;
    const scope = await this.deps.events.siteScope(e.siteId);
    await this.deps.live.publish('camera.status', scope, {
      cameraId: e.cameraId,
      siteId: e.siteId,
      unitId: e.unitId,
      status: e.status,
      reason: e.reason,
      at: e.at,
    });
    await this.onSignals(signalsFromStatus(e));
    // Coverage from the registry, with this camera's new status applied in case the row lags.
    const healthy = HEALTHY_STATUSES.includes(e.status);
    const at = new Date(e.at);
    const zones = await this.deps.sites.coverage(e.siteId);
    await this.onSignals(
      zones.map((z) => {
        const ids = new Set(z.healthyCameraIds.filter((id) => id !== e.cameraId));
        if (healthy && z.cameraIds.includes(e.cameraId)) ids.add(e.cameraId);
        return zoneSignal({ ...z, covered: ids.size > 0 }, { siteId: e.siteId, unitId: e.unitId }, at);
      }),
    );
  }

  private async onSignals(signals: (Signal | null)[]): Promise<void> {
    if (!this.owner) return;
    for (const s of signals) if (s) await this.apply(s);
  }

  private async apply(s: Signal): Promise<void> {
    const { store } = this.deps;
    let c = this.conditions.get(s.key);
    if (!c) {
      if (!s.active) return;
      c = { signal: s, causes: new Set(), since: null, timelineId: null, alertId: null, clearedAt: null };
      this.conditions.set(s.key, c);
    }
    const wasActive = c.causes.size > 0;
    if (s.active) {
      c.causes.add(s.cause);
      if (s.detail) c.signal = { ...c.signal, detail: s.detail };
      if (wasActive) return;
      // A new occurrence.
      c.since = s.at;
      c.timelineId = await store.timelineStart(s);
      if (c.alertId) {
        c.clearedAt = null;
        const row = await store.fold(c.alertId, s.at, s.detail);
        if (row) {
          await store.linkTimeline(s.key, new Date(s.at.getTime() - 1), row.id);
          await this.deps.alerts.notify('alert.updated', row);
          return;
        }
        c.alertId = null;
      }
      const windowStart = new Date(s.at.getTime() - this.opts.flapWindowMs);
      if ((await store.occurrencesSince(s.key, windowStart)) >= this.opts.flapThreshold)
        await this.open(c, s.at);
      else this.tickWhenGraceEnds(s.at);
      return;
    }
    c.causes.delete(s.cause);
    if (!wasActive || c.causes.size > 0) {
      // A clear for an alert inherited from a previous engine: start its resolution hold.
      if (!wasActive && c.alertId && !c.clearedAt) {
        c.clearedAt = s.at;
        await store.markCleared(c.alertId, s.at);
      }
      return;
    }
    if (c.timelineId) await store.timelineEnd(c.timelineId, s.at);
    c.since = null;
    c.timelineId = null;
    if (c.alertId) {
      c.clearedAt = s.at;
      await store.markCleared(c.alertId, s.at);
    } else {
      // A blip shorter than the grace: on the timeline only.
      this.conditions.delete(s.key);
    }
  }

  private async open(c: Condition, at: Date): Promise<void> {
    const { store } = this.deps;
    const s = c.signal;
    // Critical while a session runs where the alert points (anywhere, for service-wide faults).
    const running = await store.runningBatch(s.siteId, at);
    const batchId = s.batchId ?? (s.siteId ? running : null);
    const windowStart = new Date(at.getTime() - this.opts.flapWindowMs);
    const occurrences = Math.max(1, await store.occurrencesSince(s.key, windowStart));
    const { row, opened } = await store.openOrFold(s, {
      severity: running ? 'critical' : 'warning',
      batchId,
      occurrences,
      at,
    });
    c.alertId = row.id;
    c.clearedAt = null;
    await store.linkTimeline(s.key, windowStart, row.id);
    await this.deps.alerts.notify(opened ? 'alert.opened' : 'alert.updated', row);
  }

  /** Time-driven transitions: grace expiry, resolution after the hold, severity, housekeeping. */
  async tick(): Promise<void> {
    if (!this.owner) return;
    const now = this.deps.clock.now();
    const t = now.getTime();
    for (const [key, c] of this.conditions) {
      if (c.causes.size > 0 && !c.alertId && c.since && t - c.since.getTime() >= this.opts.graceMs) {
        await this.open(c, now);
      } else if (c.causes.size === 0 && c.alertId && c.clearedAt) {
        if (t - c.clearedAt.getTime() < this.opts.resolveHoldMs) continue;
        const row = await this.deps.store.resolve(c.alertId, now);
        this.conditions.delete(key);
        if (row) await this.deps.alerts.notify('alert.resolved', row);
      }
    }
    if (t - this.lastHousekeeping >= 2000) {
      this.lastHousekeeping = t;
      for (const row of await this.deps.store.raiseForRunningSessions(now))
        await this.deps.alerts.notify('alert.updated', row);
      await this.deps.events.prune(new Date(t - this.opts.eventsRetentionHours * 3600_000));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const t of this.graceTimers) clearTimeout(t);
    for (const off of this.unsubscribe) off();
    await this.chain.catch(() => undefined);
    if (this.owner) {
      this.owner = false;
      await this.deps.redis.eval(RELEASE, 1, this.opts.leaseKey, this.token).catch(() => undefined);
    }
  }
}

function signalOfRow(r: AlertRow): Signal {
  return {
    key: r.dedupe_key,
    rule: r.rule,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    unitId: r.unit_id,
    siteId: r.site_id,
    cameraId: r.camera_id,
    zoneId: r.zone_id,
    batchId: r.batch_id,
    cause: 'restored',
    active: false,
    at: r.last_seen_at,
    detail: r.detail,
  };
}

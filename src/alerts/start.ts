import type { Services } from '../services.js';
import { AlertEngine } from './engine.js';

/** The worker role's share of alerting: the (lease-owning) engine and the webhook worker. */
export async function startAlerting(s: Services): Promise<AlertEngine> {
  const engine = new AlertEngine(
    {
      db: s.db,
      redis: s.redis,
      bus: s.events,
      store: s.alerts.store,
      alerts: s.alerts,
      live: s.live,
      events: s.liveEvents,
      sites: s.sites,
      clock: s.clock,
      log: s.log,
    },
    {
      graceMs: s.config.ALERT_GRACE_MS,
      resolveHoldMs: s.config.ALERT_RESOLVE_HOLD_MS,
      flapThreshold: s.config.ALERT_FLAP_THRESHOLD,
      flapWindowMs: s.config.ALERT_FLAP_WINDOW_MS,
      leaseMs: s.config.LEASE_MS,
      eventsRetentionHours: s.config.LIVE_EVENTS_RETENTION_HOURS,
      leaseKey: `ess:${s.config.DATABASE_SCHEMA}:alerts:owner`,
    },
  );
  await engine.start();
  if (s.config.WEBHOOK_URL) s.alerts.startWorkers();
  return engine;
}

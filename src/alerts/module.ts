import type { Tenancy } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Lifecycle } from '../platform/lifecycle.js';
import type { AlertJobs } from './jobs.js';
import type { Platform } from '../platform/platform.js';
import type { SiteService } from '../sites/sites.js';
import { AlertStore, type RunningSessions } from './alerts.js';
import { AlertEngine, type AlertInputs } from './engine.js';
import type { LiveEventLog } from './live-events.js';
import { AlertService, type LivePublisher } from './service.js';

export interface AlertsModule extends Lifecycle {
  alerts: AlertService;
}

/**
 * Alerts as users see them in every role; in the worker role also the (lease-owning) engine that
 * turns camera and service events into alerts, and the webhook worker.
 */
export function createAlertsModule(
  p: Platform<AlertInputs, AlertJobs>,
  deps: {
    audit: AuditLog;
    sites: SiteService;
    events: LiveEventLog;
    live: LivePublisher;
    tenancy: Tenancy;
    /** Answered by batches: the sessions running now. */
    sessions: RunningSessions;
  },
): AlertsModule {
  const c = p.config;
  const store = new AlertStore(p.db, deps.audit, p.clock, { tenancy: deps.tenancy, sessions: deps.sessions });
  const alerts = new AlertService(store, deps.events, deps.live, p.jobs, p.db, {
    url: c.WEBHOOK_URL,
    secret: c.WEBHOOK_SECRET,
  });
  const engine = c.ROLES.includes('worker')
    ? new AlertEngine(
        {
          redis: p.redis,
          bus: p.events,
          store,
          alerts,
          live: deps.live,
          events: deps.events,
          sites: deps.sites,
          clock: p.clock,
          log: p.log,
        },
        {
          graceMs: c.ALERT_GRACE_MS,
          resolveHoldMs: c.ALERT_RESOLVE_HOLD_MS,
          flapThreshold: c.ALERT_FLAP_THRESHOLD,
          flapWindowMs: c.ALERT_FLAP_WINDOW_MS,
          leaseMs: c.LEASE_MS,
          eventsRetentionHours: c.LIVE_EVENTS_RETENTION_HOURS,
          leaseKey: p.keys.key('alerts', 'owner'),
        },
      )
    : null;
  return {
    alerts,
    start: async () => {
      await engine?.start();
      // Webhook jobs are closed with the job queues.
      if (engine && c.WEBHOOK_URL) alerts.work();
    },
    close: async () => await engine?.close(),
  };
}

import type { Actor } from '../access/actor.js';
import type { Db } from '../platform/db.js';
import type { Jobs } from '../platform/jobs.js';
import type { AlertJobs } from './jobs.js';
import type { Page } from '../platform/pagination.js';
import { alertViewOf, type AlertRow, type AlertStore } from './alerts.js';
import type { LiveEventLog, LiveScope, ScopedLiveEvent } from './live-events.js';
import type { AlertsQuery, AlertView, LiveEventName, LiveEventPayloads } from './schemas.js';
import { postWebhook } from './webhooks.js';

/** Sends numbered events to live clients in every API process (the socket.io hub). */
export interface LivePublisher {
  publish<K extends LiveEventName>(
    name: K,
    scope: LiveScope,
    payload: LiveEventPayloads[K],
  ): Promise<ScopedLiveEvent>;
}

export interface WebhookOptions {
  url?: string;
  secret?: string;
}

/** Alerts as users see them: listing, acknowledging, and every change pushed live and to the webhook. */
export class AlertService {
  constructor(
    readonly store: AlertStore,
    private readonly events: LiveEventLog,
    private readonly publisher: LivePublisher,
    private readonly jobs: Jobs<AlertJobs>,
    private readonly db: Db,
    private readonly webhook: WebhookOptions,
  ) {}

  list(actor: Actor, q: AlertsQuery): Promise<Page<AlertView>> {
    return this.store.list(actor, q);
  }

  async acknowledge(actor: Actor, id: string): Promise<AlertView> {
    const { row, changed } = await this.store.acknowledge(actor, id);
    if (changed) await this.notify('alert.updated', row);
    return alertViewOf(row);
  }

  /** Pushes an alert change to live clients and queues its webhook delivery. */
  async notify(
    name: 'alert.opened' | 'alert.updated' | 'alert.resolved',
    row: AlertRow,
  ): Promise<ScopedLiveEvent> {
    const scope: LiveScope = row.site_id
      ? await this.events.siteScope(row.site_id, row.batch_id)
      : {
          unitId: row.unit_id,
          siteId: null,
          batchIds: row.batch_id ? [row.batch_id] : [],
          confidential: false,
        };
    const sent = await this.publisher.publish(name, scope, { alert: alertViewOf(row) });
    // A confidential unit's events stay inside the service; the webhook goes to the platform.
    if (this.webhook.url && !scope.confidential) {
      await this.jobs.add('alerts.webhook', { seq: sent.event.seq }, { jobId: `webhook-${sent.event.seq}` });
    }
    return sent;
  }

  /** Worker side of the webhook job: one POST of the stored event; a failure is retried by BullMQ. */
  async deliverWebhook(seq: number): Promise<'sent' | 'skipped'> {
    if (!this.webhook.url) return 'skipped';
    const [row] = await this.db.query<{
      seq: number;
      name: string;
      payload: Record<string, unknown>;
      at: Date;
    }>('SELECT seq, name, payload, at FROM live_events WHERE seq = $1', [seq]);
    if (!row) return 'skipped';
    const body = JSON.stringify({ seq: row.seq, name: row.name, at: row.at.toISOString(), ...row.payload });
    await postWebhook(this.webhook.url, this.webhook.secret, row, body);
    return 'sent';
  }

  work(): void {
    this.jobs.work('alerts.webhook', async (p) => this.deliverWebhook(p.seq));
  }
}

import { z } from 'zod';
import { alertsQuery, alertView } from '../../alerts/schemas.js';
import { idParams, listOf, route } from '../route.js';
import type { AlertService } from '../../alerts/service.js';
import type { BatchService } from '../../batches/batches.js';
import type { LiveView } from '../../live/live-view.js';

const liveUrls = z.object({ flvUrl: z.string(), wsFlvUrl: z.string(), expiresAt: z.string() });

/** What these routes use. */
export interface AlertRouteDeps {
  alerts: AlertService;
  batches: BatchService;
  liveView: LiveView;
}

export const alertRoutes = (s: AlertRouteDeps) => [
  route({
    method: 'get',
    path: '/alerts',
    summary: 'List alerts (filter by state, site, batch)',
    tag: 'alerts',
    roles: 'any',
    query: alertsQuery,
    response: listOf(alertView),
    handler: async ({ actor, query }) => {
      // A batch the actor may not see is 404 here too, as at GET /batches/:id (supervisors see
      // alerts by site, and a site can host other batches than the ones they are dispatched to).
      if (query.batchId) await s.batches.get(actor, query.batchId);
      return s.alerts.list(actor, query);
    },
  }),
  route({
    method: 'post',
    path: '/alerts/:id/ack',
    summary: 'Acknowledge an alert',
    tag: 'alerts',
    roles: ['admin', 'supervisor', 'unit_operator'],
    params: idParams,
    response: alertView,
    handler: ({ actor, params }) => s.alerts.acknowledge(actor, params.id),
  }),
  route({
    method: 'get',
    path: '/cameras/:id/live',
    summary: 'Get signed, short-lived live URLs (HTTP-FLV and WS-FLV) of a camera',
    tag: 'cameras',
    roles: 'any',
    params: idParams,
    response: liveUrls,
    handler: ({ actor, params, req }) =>
      s.liveView.urls(actor, params.id, `${req.protocol}://${req.get('host')}`),
  }),
];

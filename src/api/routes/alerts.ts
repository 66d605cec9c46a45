import { z } from 'zod';
import { alertsQuery, alertView } from '../../alerts/schemas.js';
import type { Services } from '../../services.js';
import { idParams, listOf, route } from '../route.js';

const liveUrls = z.object({ flvUrl: z.string(), wsFlvUrl: z.string(), expiresAt: z.string() });

export const alertRoutes = (s: Services) => [
  route({
    method: 'get',
    path: '/alerts',
    summary: 'List alerts (filter by state, site, batch)',
    tag: 'alerts',
    roles: 'any',
    query: alertsQuery,
    response: listOf(alertView),
    handler: ({ actor, query }) => s.alerts.list(actor, query),
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

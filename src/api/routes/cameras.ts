import { cameraCreateBody, cameraView, cameraZonesBody } from '../../ingest/schemas.js';
import type { Services } from '../../services.js';
import { idParams, route } from '../route.js';

export const cameraRoutes = (s: Services) => [
  route({
    method: 'post',
    path: '/cameras',
    summary: 'Register a camera by RTSP address or ONVIF',
    tag: 'cameras',
    roles: ['admin', 'unit_operator'],
    body: cameraCreateBody,
    response: cameraView,
    status: 201,
    handler: ({ actor, body }) => s.onboarding.register(actor, body),
  }),
  route({
    method: 'get',
    path: '/cameras/:id',
    summary: 'Get a camera with status and health',
    tag: 'cameras',
    roles: 'any',
    params: idParams,
    response: cameraView,
    handler: ({ actor, params }) => s.cameras.get(actor, params.id),
  }),
  route({
    method: 'put',
    path: '/cameras/:id/zones',
    summary: 'Set the zones a camera covers',
    tag: 'cameras',
    roles: ['admin', 'unit_operator'],
    params: idParams,
    body: cameraZonesBody,
    response: cameraView,
    handler: ({ actor, params, body }) => s.cameras.setZones(actor, params.id, body.zoneIds),
  }),
  route({
    method: 'delete',
    path: '/cameras/:id',
    summary: 'Remove a camera (footage stays under retention)',
    tag: 'cameras',
    roles: ['admin', 'unit_operator'],
    params: idParams,
    status: 204,
    handler: async ({ actor, params }) => {
      await s.cameras.remove(actor, params.id);
      return undefined;
    },
  }),
];

import { z } from 'zod';
import {
  cameraCreateBody,
  cameraView,
  cameraZonesBody,
  discoverBody,
  discoveredView,
  referenceView,
} from '../../ingest/schemas.js';
import { idParams, route } from '../route.js';
import type { CameraRegistry } from '../../ingest/cameras.js';
import type { CameraDiscovery } from '../../ingest/discovery.js';
import type { CameraOnboarding } from '../../ingest/onboarding.js';
import type { CameraSnapshots } from '../../ingest/snapshots.js';

/** What these routes use. */
export interface CameraRouteDeps {
  cameras: CameraRegistry;
  discovery: CameraDiscovery;
  onboarding: CameraOnboarding;
  snapshots: CameraSnapshots;
}

export const cameraRoutes = (s: CameraRouteDeps) => [
  route({
    method: 'post',
    path: '/cameras/discover',
    summary: 'Find ONVIF cameras on the local network (WS-Discovery)',
    tag: 'cameras',
    roles: ['admin', 'unit_operator'],
    body: discoverBody,
    response: z.object({ items: z.array(discoveredView) }),
    handler: async ({ body }) => ({ items: await s.discovery.discover(body.timeoutMs) }),
  }),
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
    method: 'post',
    path: '/cameras/:id/reference',
    summary: "Take (or retake) the current picture as the camera's reference view",
    tag: 'cameras',
    roles: ['admin', 'unit_operator'],
    params: idParams,
    response: referenceView,
    status: 201,
    handler: ({ actor, params }) => s.snapshots.setReference(actor, params.id),
  }),
  route({
    method: 'get',
    path: '/cameras/:id/reference',
    summary: "The camera's reference view: when it was taken, and whether by the service or an operator",
    tag: 'cameras',
    roles: 'any',
    params: idParams,
    response: referenceView,
    handler: ({ actor, params }) => s.snapshots.reference(actor, params.id),
  }),
  route({
    method: 'get',
    path: '/cameras/:id/reference.jpg',
    summary: "The camera's reference picture",
    tag: 'cameras',
    roles: 'any',
    params: idParams,
    produces: 'image/jpeg',
    handler: async ({ actor, params, res }) => {
      const jpeg = await s.snapshots.referenceJpeg(actor, params.id);
      res.status(200).type('image/jpeg').set('cache-control', 'no-store').send(jpeg);
      return undefined;
    },
  }),
  route({
    method: 'get',
    path: '/cameras/:id/snapshot',
    summary: 'A current JPEG picture of the camera',
    tag: 'cameras',
    roles: 'any',
    params: idParams,
    produces: 'image/jpeg',
    handler: async ({ actor, params, res }) => {
      const jpeg = await s.snapshots.snapshot(actor, params.id);
      res.status(200).type('image/jpeg').set('cache-control', 'no-store').send(jpeg);
      return undefined;
    },
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

import { z } from 'zod';
import { listQuery } from '../../platform/pagination.js';
import { cameraView } from '../../ingest/schemas.js';
import {
  coverageView,
  siteCreateBody,
  siteView,
  unitCreateBody,
  unitView,
  zoneCreateBody,
  zoneView,
} from '../../sites/schemas.js';
import { idParams, listOf, route } from '../route.js';
import type { CameraRegistry } from '../../ingest/cameras.js';
import type { SiteService } from '../../sites/sites.js';
import type { UnitService } from '../../sites/units.js';

const siteDetail = siteView.extend({ cameras: z.array(cameraView), coverage: z.array(coverageView) });

/** What these routes use. */
export interface SiteRouteDeps {
  cameras: CameraRegistry;
  sites: SiteService;
  units: UnitService;
}

export const siteRoutes = (s: SiteRouteDeps) => [
  route({
    method: 'post',
    path: '/units',
    summary: 'Register a unit',
    tag: 'units',
    roles: ['admin'],
    body: unitCreateBody,
    response: unitView,
    status: 201,
    handler: ({ actor, body }) => s.units.create(actor, body),
  }),
  route({
    method: 'get',
    path: '/units',
    summary: 'List units',
    tag: 'units',
    roles: 'any',
    query: listQuery,
    response: listOf(unitView),
    handler: ({ actor, query }) => s.units.list(actor, query),
  }),
  route({
    method: 'get',
    path: '/units/:id',
    summary: 'Get a unit',
    tag: 'units',
    roles: 'any',
    params: idParams,
    response: unitView,
    handler: ({ actor, params }) => s.units.get(actor, params.id),
  }),
  route({
    method: 'post',
    path: '/sites',
    summary: 'Register a site with its zones',
    tag: 'sites',
    roles: ['admin', 'unit_operator'],
    body: siteCreateBody,
    response: siteView,
    status: 201,
    handler: ({ actor, body }) => s.sites.create(actor, body),
  }),
  route({
    method: 'get',
    path: '/sites',
    summary: 'List sites',
    tag: 'sites',
    roles: 'any',
    query: listQuery,
    response: listOf(siteView),
    handler: ({ actor, query }) => s.sites.list(actor, query),
  }),
  route({
    method: 'get',
    path: '/sites/:id',
    summary: 'Get a site with zones, cameras and coverage',
    tag: 'sites',
    roles: 'any',
    params: idParams,
    response: siteDetail,
    handler: async ({ actor, params }) => {
      const site = await s.sites.get(actor, params.id);
      return { ...site, cameras: await s.cameras.listBySite(site.id) };
    },
  }),
  route({
    method: 'post',
    path: '/sites/:id/zones',
    summary: 'Add a zone to a site',
    tag: 'sites',
    roles: ['admin', 'unit_operator'],
    params: idParams,
    body: zoneCreateBody,
    response: zoneView,
    status: 201,
    handler: ({ actor, params, body }) => s.sites.addZone(actor, params.id, body.name),
  }),
];

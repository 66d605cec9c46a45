import { listQuery } from '../../platform/pagination.js';
import type { Services } from '../../services.js';
import { batchCreateBody, batchView } from '../../sites/schemas.js';
import { idParams, listOf, route } from '../route.js';

export const batchRoutes = (s: Services) => [
  route({
    method: 'post',
    path: '/batches',
    summary: 'Create an assessment batch with its sessions',
    tag: 'batches',
    roles: ['admin', 'unit_operator'],
    body: batchCreateBody,
    response: batchView,
    status: 201,
    handler: ({ actor, body }) => s.batches.create(actor, body),
  }),
  route({
    method: 'get',
    path: '/batches',
    summary: 'List batches',
    tag: 'batches',
    roles: 'any',
    query: listQuery,
    response: listOf(batchView),
    handler: ({ actor, query }) => s.batches.list(actor, query),
  }),
  route({
    method: 'get',
    path: '/batches/:id',
    summary: 'Get a batch with its sessions',
    tag: 'batches',
    roles: 'any',
    params: idParams,
    response: batchView,
    handler: ({ actor, params }) => s.batches.get(actor, params.id),
  }),
];

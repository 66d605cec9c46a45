import { z } from 'zod';
import { listQuery } from '../../platform/pagination.js';
import {
  batchDetail,
  dispatchBody,
  dispatchView,
  drawRecordView,
  exportRequested,
  opinionBody,
  opinionView,
  recordingsView,
  rejectBody,
  reportQuery,
  reportView,
  verificationView,
} from '../../batches/schemas.js';
import { reportHtml } from '../../batches/report.js';
import { batchCreateBody, batchView } from '../../sites/schemas.js';
import { idParams, listOf, route } from '../route.js';
import type { BatchService } from '../../batches/batches.js';
import type { BatchesModule } from '../../batches/module.js';

/** What these routes use. */
export interface BatchRouteDeps {
  batches: BatchService;
  batchOps: Pick<BatchesModule, 'dispatch' | 'exports' | 'lifecycle' | 'records' | 'signing' | 'spotChecks'>;
}

export const batchRoutes = (s: BatchRouteDeps) => [
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
    summary: 'Get a batch with its sessions, supervisors and readiness',
    tag: 'batches',
    roles: 'any',
    params: idParams,
    response: batchDetail,
    handler: ({ actor, params }) => s.batchOps.records.detail(actor, params.id),
  }),
  route({
    method: 'post',
    path: '/batches/:id/approve',
    summary: 'Approve a completed batch',
    tag: 'batches',
    roles: ['admin'],
    params: idParams,
    response: batchView,
    handler: ({ actor, params }) => s.batchOps.lifecycle.approve(actor, params.id),
  }),
  route({
    method: 'post',
    path: '/batches/:id/reject',
    summary: 'Reject a batch and put its footage on hold',
    tag: 'batches',
    roles: ['admin'],
    params: idParams,
    body: rejectBody,
    response: batchView.extend({ holdId: z.string() }),
    handler: ({ actor, params, body }) => s.batchOps.lifecycle.reject(actor, params.id, body.reason),
  }),
  route({
    method: 'get',
    path: '/batches/:id/recordings',
    summary: "List a batch's footage per session and camera, with gaps and reasons",
    tag: 'batches',
    roles: 'any',
    params: idParams,
    response: recordingsView,
    handler: ({ actor, params }) => s.batchOps.records.recordings(actor, params.id),
  }),
  route({
    method: 'get',
    path: '/batches/:id/report',
    summary: 'Completeness report per session and zone (JSON or printable HTML)',
    tag: 'batches',
    roles: 'any',
    params: idParams,
    query: reportQuery,
    response: reportView,
    handler: async ({ actor, params, query, res }) => {
      const report = await s.batchOps.records.report(actor, params.id, query.format);
      if (query.format !== 'html') return report;
      res.type('text/html; charset=utf-8').send(reportHtml(report));
      return undefined;
    },
  }),
  route({
    method: 'post',
    path: '/batches/:id/verify',
    summary: "Re-read and re-hash every stored segment of a batch and check each camera's hash chain",
    tag: 'batches',
    roles: ['admin', 'auditor', 'unit_operator'],
    params: idParams,
    response: verificationView,
    handler: ({ actor, params }) => s.batchOps.records.verify(actor, params.id),
  }),
  route({
    method: 'post',
    path: '/batches/:id/exports',
    summary: 'Start a signed export of the batch footage',
    tag: 'exports',
    roles: ['admin', 'auditor', 'unit_operator'],
    params: idParams,
    response: exportRequested,
    status: 202,
    handler: ({ actor, params }) => s.batchOps.exports.request(actor, params.id),
  }),
  route({
    method: 'post',
    path: '/batches/:id/dispatch',
    summary: 'Draw supervisors for every session at random (seed recorded)',
    tag: 'batches',
    roles: ['admin'],
    params: idParams,
    body: dispatchBody,
    response: dispatchView,
    handler: ({ actor, params, body }) => s.batchOps.dispatch.dispatch(actor, params.id, body),
  }),
  route({
    method: 'get',
    path: '/batches/:id/draws',
    summary: "A batch's supervisor draws, each replayed from its seed",
    tag: 'batches',
    roles: ['admin', 'auditor'],
    params: idParams,
    response: z.object({ items: z.array(drawRecordView) }),
    handler: async ({ actor, params }) => ({ items: await s.batchOps.dispatch.draws(actor, params.id) }),
  }),
  route({
    method: 'post',
    path: '/batches/:id/opinions',
    summary: "File an assigned supervisor's opinion and score for a session",
    tag: 'batches',
    roles: ['supervisor'],
    params: idParams,
    body: opinionBody,
    response: opinionView,
    status: 201,
    handler: ({ actor, params, body }) => s.batchOps.lifecycle.fileOpinion(actor, params.id, body),
  }),
];

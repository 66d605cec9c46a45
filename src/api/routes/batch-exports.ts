import { exportView, signingKeyView, spotCheckBody, spotCheckView } from '../../batches/schemas.js';
import { idParams, route } from '../route.js';
import type { BatchesModule } from '../../batches/module.js';

/** Exports, the signing key that proves them, and random spot checks. */
/** What these routes use. */
export interface BatchExportRouteDeps {
  batchOps: Pick<BatchesModule, 'exports' | 'signing' | 'spotChecks'>;
}

export const batchExportRoutes = (s: BatchExportRouteDeps) => [
  route({
    method: 'get',
    path: '/exports/:id',
    summary: "An export's status and progress; its manifest and download link when done",
    tag: 'exports',
    roles: 'any',
    params: idParams,
    response: exportView,
    handler: ({ actor, params }) => s.batchOps.exports.get(actor, params.id),
  }),
  route({
    method: 'get',
    path: '/exports/:id/download',
    summary: 'Download a finished export (tar: videos, original segments, signed manifest)',
    tag: 'exports',
    roles: ['admin', 'auditor', 'unit_operator'],
    params: idParams,
    produces: 'application/x-tar',
    handler: async ({ actor, params, res }) => {
      const file = await s.batchOps.exports.download(actor, params.id);
      res.status(200);
      res.setHeader('content-type', 'application/x-tar');
      res.setHeader('content-length', String(file.bytes));
      res.setHeader('content-disposition', `attachment; filename="${file.filename}"`);
      await new Promise<void>((resolve, reject) => {
        file.stream.on('error', reject);
        res.on('close', resolve);
        file.stream.pipe(res);
      });
      return undefined;
    },
  }),
  route({
    method: 'get',
    path: '/signing-key',
    summary: 'The public key that signs export manifests (Ed25519)',
    tag: 'exports',
    roles: 'public',
    response: signingKeyView,
    handler: async () => ({
      algorithm: 'Ed25519' as const,
      publicKeyPem: s.batchOps.signing.publicKeyPem,
      fingerprint: s.batchOps.signing.fingerprint,
    }),
  }),
  route({
    method: 'post',
    path: '/spot-checks',
    summary: 'Draw batches and spans at random for review (seed recorded)',
    tag: 'spot-checks',
    roles: ['auditor', 'admin'],
    body: spotCheckBody,
    response: spotCheckView,
    status: 201,
    handler: ({ actor, body }) => s.batchOps.spotChecks.draw(actor, body),
  }),
  route({
    method: 'get',
    path: '/spot-checks/:id',
    summary: 'A spot-check draw, replayed from its seed',
    tag: 'spot-checks',
    roles: ['auditor', 'admin'],
    params: idParams,
    response: spotCheckView,
    handler: ({ actor, params }) => s.batchOps.spotChecks.get(actor, params.id),
  }),
];

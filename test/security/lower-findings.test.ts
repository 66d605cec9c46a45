import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSupervisorPage } from '../../src/api/live-web.js';
import { assignSupervisor, batchBody, expectError, makeUser, REGISTRY_ENV } from '../api/fixtures.js';
import { seedUnit, startTestService, type TestService } from '../support/service.js';

describe('lower findings', () => {
  let svc: TestService;

  beforeAll(async () => {
    svc = await startTestService(REGISTRY_ENV);
  }, 60_000);
  afterAll(async () => svc?.stop());

  it('a supervisor filtering alerts by a batch it is not dispatched to gets 404, as for the batch', async () => {
    const admin = await svc.admin();
    const { unit, site } = await seedUnit(svc);
    const mine = await admin.post('/batches', batchBody(unit.id, site.id));
    const other = await admin.post('/batches', batchBody(unit.id, site.id));
    expect([mine.status, other.status]).toEqual([201, 201]);
    const supervisor = await makeUser(svc, 'supervisor');
    await assignSupervisor(svc, mine.body.id, supervisor.id);
    expect((await supervisor.client.get(`/alerts?batchId=${mine.body.id}`)).status).toBe(200);
    expectError(await supervisor.client.get(`/batches/${other.body.id}`), 404, 'not_found');
    expectError(await supervisor.client.get(`/alerts?batchId=${other.body.id}`), 404, 'not_found');
  });

  it('serves the supervisor page without its source maps', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'ess-web-'));
    await mkdir(path.join(root, 'assets'));
    await writeFile(path.join(root, 'index.html'), '<!doctype html>');
    await writeFile(path.join(root, 'assets', 'main.js'), 'x()\n//# sourceMappingURL=main.js.map');
    await writeFile(path.join(root, 'assets', 'main.js.map'), '{"sources":["../src/main.ts"]}');
    const app = express();
    mountSupervisorPage(app, root);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/assets/main.js`)).status).toBe(200);
      expect((await fetch(`${base}/assets/main.js.map`)).status).toBe(404);
    } finally {
      server.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/schema.js';
import { startService, type RunningService } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';
import { waitFor } from '../ingest/helpers.js';
import { seedUnit, startTestService, TEST_DATABASE_URL, type TestService } from '../support/service.js';

/**
 * The network policy holds for the supervised pull too, not only at registration: a camera stored
 * while its address was allowed is not opened by an ingest process whose CAMERA_NETWORKS leave it out.
 */
describe('camera network policy at pull time', () => {
  const secretKey = randomBytes(32).toString('hex');
  let api: TestService;
  let ingest: RunningService | null = null;
  let dataDir: string;

  beforeAll(async () => {
    api = await startTestService({ ROLES: 'api', PROBE_ON_REGISTER: 'false', SECRET_KEY: secretKey });
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ess-policy-'));
  });
  afterAll(async () => {
    await ingest?.close();
    await api?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to pull a stored camera outside CAMERA_NETWORKS, and says why', async () => {
    const { site, operator } = await seedUnit(api, 'Policy');
    const cam = await operator.post('/cameras', {
      siteId: site.id,
      name: 'Door',
      rtspUrl: 'rtsp://127.0.0.1:8554/door',
    });
    expect(cam.status, JSON.stringify(cam.body)).toBe(201);
    const config = loadConfig({
      ROLES: 'ingest',
      DATA_DIR: dataDir,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: api.schema,
      REDIS_URL: 'redis://127.0.0.1:6379',
      SECRET_KEY: secretKey,
      CAMERA_NETWORKS: '10.0.0.0/8',
      INGEST_POLL_MS: '500',
      LOG_LEVEL: 'silent',
    });
    ingest = await startService(config, { log: createLogger('silent') });
    const refused = await waitFor(
      async () => {
        const c = (await operator.get(`/cameras/${cam.body.id}`)).body;
        return c.status === 'offline' && /refused/.test(c.statusReason ?? '') ? c : null;
      },
      20_000,
      'the pull refused',
    );
    expect(refused.statusReason).toMatch(/CAMERA_NETWORKS/);
    const pulls = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('framecrc') && l.includes(cam.body.id));
    expect(pulls).toEqual([]);
  }, 60_000);
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { seedUnit, sql, startTestService, TEST_DATABASE_URL, type TestService } from '../support/service.js';
import { waitFor } from './helpers.js';

const LEASE_MS = 3000;
let lab: Lab;
let svc: TestService;
let redis: Redis;
const secretKey = randomBytes(32).toString('hex');
const children: { proc: ChildProcess; dir: string }[] = [];
const cameraIds: string[] = [];

/** One ingest-only process of the service on the same database schema and Redis. */
async function startIngest(): Promise<ChildProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ess-ingest-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      ROLES: 'ingest',
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: svc.schema,
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATA_DIR: dir,
      SECRET_KEY: secretKey,
      LEASE_MS: String(LEASE_MS),
      INGEST_POLL_MS: '500',
      FLOOR_MIN_HEIGHT: '120',
      FLOOR_MIN_KBPS: '10',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push({ proc, dir });
  return proc;
}

/** Supervised pulls running now, per camera id (from the spool path of its recording output), over all processes. */
function pullsByCamera(): Map<string, number> {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    if (!line.includes('framecrc')) continue;
    const m = /\/spool\/([0-9a-f-]{36})\//.exec(line);
    if (m && cameraIds.includes(m[1]!)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return counts;
}

const holders = async () =>
  Promise.all(cameraIds.map((id) => redis.get(svc.services.keys.key('lease', 'camera', id))));

beforeAll(async () => {
  lab = await startLab({ cameras: 3, mode: 'scale', width: 320, height: 180 });
  svc = await startTestService({ ROLES: 'api', SECRET_KEY: secretKey });
  redis = new Redis('redis://127.0.0.1:6379');
  const { operator, site } = await seedUnit(svc);
  for (const cam of lab.cameras) {
    const r = await operator.post('/cameras', { siteId: site.id, name: cam.name, rtspUrl: cam.rtsp.main });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    cameraIds.push(r.body.id);
  }
}, 90_000);

afterAll(async () => {
  for (const c of children) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      c.proc.kill('SIGTERM');
      await new Promise((r) => c.proc.once('exit', r));
    }
    await rm(c.dir, { recursive: true, force: true });
  }
  redis?.disconnect();
  await svc?.stop();
  await lab?.stop();
});

describe('two ingest processes sharing cameras', () => {
  it('splits the cameras, never pulls one twice, and takes over a killed process within the lease', async () => {
    const a = await startIngest();
    await startIngest();
    let maxPulls = 0;
    const sampler = setInterval(() => {
      for (const n of pullsByCamera().values()) maxPulls = Math.max(maxPulls, n);
    }, 200);
    try {
      const online = async () => {
        const rows = await sql<{ status: string }>(svc.schema, 'SELECT status FROM cameras');
        return rows.length === 3 && rows.every((r) => r.status === 'online');
      };
      await waitFor(online, 40_000, 'all cameras online');
      const owners = await holders();
      expect(owners.every(Boolean)).toBe(true);
      expect(new Set(owners).size).toBe(2); // both processes have a share

      const victim = owners.find((o) => o!.includes(`:${a.pid}:`)) ? a.pid : null;
      const killedAt = Date.now();
      a.kill('SIGKILL');
      const survivor = owners.find((o) => !o!.includes(`:${victim}:`))!;
      // The killed process's ffmpegs die with it (no orphan keeps pulling).
      await waitFor(
        () => [...pullsByCamera().values()].reduce((s, n) => s + n, 0) <= 3,
        5000,
        'orphans gone',
      );
      await waitFor(async () => (await holders()).every((h) => h === survivor), LEASE_MS + 3000, 'takeover');
      const takeover = Date.now() - killedAt;
      await waitFor(online, 15_000, 'all cameras online again');
      console.log(`takeover of the killed process's cameras after ${takeover} ms (lease ${LEASE_MS} ms)`);
      expect(takeover).toBeLessThanOrEqual(LEASE_MS + 1500);
      expect(pullsByCamera().size).toBe(3);
    } finally {
      clearInterval(sampler);
    }
    expect(maxPulls).toBe(1);
  }, 120_000);
});

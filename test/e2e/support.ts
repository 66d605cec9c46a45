import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { Lab, LabCamera } from '../../lab/index.js';
import { freePort } from '../../src/platform/ports.js';
import { launchChromium, type Browser } from '../support/chromium.js';
import { ApiClient, dropSchema, makeCreditCode, sql } from '../support/service.js';
import { waitFor } from '../alerts/helpers.js';
import { withBuild } from '../system/build.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ADMIN_PASSWORD = 'e2e-admin-pass-1';
export const USER_PASSWORD = 'e2e-user-pass-1';
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Screenshots go here: the test output, or docs/screenshots when `npm run screenshots` runs. */
export const SHOTS_DIR = path.resolve(ROOT, process.env.ESS_SCREENSHOTS_DIR ?? 'test-output/e2e');
export const VIEWPORTS = [
  { width: 1920, height: 1080 },
  { width: 1366, height: 768 },
] as const;

// ---- the built service, as `npm start` runs it ----

export interface Service {
  url: string;
  schema: string;
  admin: ApiClient;
  logs(): string;
  stop(): Promise<void>;
}

/** `node dist/src/main.js` on PostgreSQL (a private schema) and Redis, on a free loopback port. */
export async function startBuiltService(env: Record<string, string> = {}): Promise<Service> {
  const schema = `e2e_${randomBytes(5).toString('hex')}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ess-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  let child!: ChildProcess;
  // Built once per set of sources under test/system's lock; nobody rebuilds dist/ until we are up.
  await withBuild(async () => {
    child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME ?? dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        DATABASE_URL,
        DATABASE_SCHEMA: schema,
        REDIS_URL: 'redis://127.0.0.1:6379',
        ADMIN_PASSWORD,
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output = (output + d).slice(-200_000)));
    child.stderr!.on('data', (d) => (output = (output + d).slice(-200_000)));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited ${child.exitCode}\n${output}`);
      const ok = await fetch(`${url}/readyz`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`service not ready in 90 s\n${output}`);
      }
      await sleep(250);
    }
  });
  const admin = await new ApiClient(url).login('admin', ADMIN_PASSWORD);
  return {
    url,
    schema,
    admin,
    logs: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      await dropSchema(schema).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Environment of the service under the browser tests: the lab's small pictures pass the floor. */
export const E2E_ENV: Record<string, string> = {
  ALERT_GRACE_MS: '500',
  ALERT_RESOLVE_HOLD_MS: '3000',
  FLOOR_MIN_HEIGHT: '180',
  FLOOR_MIN_KBPS: '32',
  FLOOR_MIN_FPS: '5',
  PICTURE_RAISE_AFTER: '2',
  PICTURE_CLEAR_AFTER: '2',
  SEGMENT_SECONDS: '4',
  RECOVERY_MS: '500',
  RECONNECT_MAX_MS: '2000',
  READINESS_LEAD_MINUTES: '120',
  READINESS_CHECK_INTERVAL_SECONDS: '5',
  BATCH_MARGIN_MINUTES: '1',
};

// ---- the browser ----

export function launchBrowser(): Promise<Browser> {
  return launchChromium(
    { viewport: VIEWPORTS[0], locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true },
    ['--lang=zh-CN'],
  );
}

/** Opens the app and signs in; the page lands on the role's home. */
export async function signIn(browser: Browser, url: string, username: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => console.warn(`page error: ${err.message}`));
  await page.goto(url);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', username === 'admin' ? ADMIN_PASSWORD : USER_PASSWORD);
  await page.click('button[type=submit]');
  await page.locator('header.top').waitFor({ timeout: 15_000 });
  return page;
}

/** Saves the page at 1920×1080 and 1366×768 as `<name>-<width>.png`. */
export async function shoot(page: Page, name: string, settle = 400): Promise<void> {
  await mkdir(SHOTS_DIR, { recursive: true });
  for (const vp of VIEWPORTS) {
    await page.setViewportSize(vp);
    await page.waitForTimeout(settle);
    await page.screenshot({ path: path.join(SHOTS_DIR, `${name}-${vp.width}.png`) });
  }
  await page.setViewportSize(VIEWPORTS[0]);
}

// ---- the seeded world: a unit, its site, users of every role, lab cameras ----

export interface World {
  unit: { id: string; name: string };
  site: { id: string; name: string; zones: { id: string; name: string }[] };
  users: Record<'operator' | 'supervisor' | 'auditor', { id: string; username: string; client: ApiClient }>;
  /** Lab cameras registered by the seed (ONVIF), by lab camera id. */
  cameras: Map<string, { id: string; name: string }>;
  operatorClient: ApiClient;
}

async function ok<T = any>(p: Promise<{ status: number; body: T }>, what: string): Promise<T> {
  const r = await p;
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function seedWorld(svc: Service): Promise<World> {
  const admin = svc.admin;
  const tag = randomBytes(2).toString('hex');
  const unit = await ok(
    admin.post('/units', {
      name: '南京市建设职业技能评价中心',
      creditCode: makeCreditCode(),
      kind: 'third_party',
      region: '江苏 南京',
    }),
    'unit',
  );
  const site = await ok(
    admin.post('/sites', {
      unitId: unit.id,
      name: '实操考场 A',
      address: '南京市鼓楼区中山北路 1 号',
      zones: [{ name: '工位 1' }, { name: '工位 2' }, { name: '工位 3' }, { name: '工位 4' }],
    }),
    'site',
  );
  const user = async (role: string, prefix: string, extra: Record<string, string> = {}) => {
    const username = `${prefix}_${tag}`;
    const created = await ok(
      admin.post('/users', { username, password: USER_PASSWORD, role, ...extra }),
      role,
    );
    return {
      id: created.id as string,
      username,
      client: await new ApiClient(svc.url).login(username, USER_PASSWORD),
    };
  };
  const operator = await user('unit_operator', 'wang', { unitId: unit.id });
  const supervisor = await user('supervisor', 'li', { supervisorKind: 'external' });
  const auditor = await user('auditor', 'zhao');
  return {
    unit,
    site,
    users: { operator, supervisor, auditor },
    cameras: new Map(),
    operatorClient: operator.client,
  };
}

/** Registers lab cameras by ONVIF through the API, each on the zone of the same index. */
export async function addLabCameras(world: World, cams: LabCamera[], zoneIndexes: number[]): Promise<void> {
  for (const [i, cam] of cams.entries()) {
    const zone = world.site.zones[zoneIndexes[i]!]!;
    const created = await ok(
      world.operatorClient.post('/cameras', {
        siteId: world.site.id,
        name: `${zone.name} 摄像机`,
        onvif: { host: cam.onvif.host, port: cam.onvif.port, username: cam.username, password: cam.password },
      }),
      `camera ${cam.id}`,
    );
    await ok(world.operatorClient.put(`/cameras/${created.id}/zones`, { zoneIds: [zone.id] }), 'zones');
    world.cameras.set(cam.id, { id: created.id, name: created.name });
  }
}

/**
 * A batch of the unit with one session at the site, moved to have started `startedAgoMs` ago (the API
 * plans sessions ahead only), with the seeded supervisor assigned to it.
 */
export async function runningBatch(
  svc: Service,
  world: World,
  code: string,
  startedAgoMs: number,
  lastsMs = 3600_000,
): Promise<{ id: string; code: string; sessionId: string }> {
  const startsAt = new Date(Date.now() + 3600_000).toISOString();
  const endsAt = new Date(Date.now() + 3600_000 + lastsMs).toISOString();
  const batch = await ok(
    world.operatorClient.post('/batches', {
      code,
      unitId: world.unit.id,
      occupationCode: '6-29-01-01',
      level: 4,
      sessions: [{ siteId: world.site.id, startsAt, endsAt }],
    }),
    'batch',
  );
  const sessionId = batch.sessions[0].id as string;
  await sql(
    svc.schema,
    `UPDATE batch_sessions SET starts_at = now() - $2 * interval '1 millisecond',
       ends_at = now() - $2 * interval '1 millisecond' + $3 * interval '1 millisecond' WHERE id = $1`,
    [sessionId, startedAgoMs, lastsMs],
  );
  await sql(svc.schema, 'INSERT INTO session_supervisors (session_id, user_id) VALUES ($1, $2)', [
    sessionId,
    world.users.supervisor.id,
  ]);
  return { id: batch.id, code, sessionId };
}

/** Polls until fn returns a truthy value (the alert tests' waitFor, named first). */
export const until = <T>(what: string, fn: () => Promise<T> | T, timeoutMs = 20_000) =>
  waitFor(fn, timeoutMs, what);

export type { Browser, Lab };

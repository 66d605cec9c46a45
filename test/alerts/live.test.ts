import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/schema.js';
import { startService, type RunningService } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';
import { ApiClient, startTestService, type TestService } from '../support/service.js';
import {
  connectLive,
  makeUser,
  now,
  publish,
  runningSession,
  seedSite,
  waitFor,
  type LiveClient,
} from './helpers.js';

const notReady = (site: any, unit: any, n: number, active = true) => ({
  batchId: `b-${site.id}`,
  sessionId: `s-${site.id}-${n}`,
  siteId: site.id,
  unitId: unit.id,
  active,
  at: now(),
  problems: [`problem ${n}`],
});

describe('live push over socket.io: tenancy, replay, several API processes', () => {
  let svc: TestService;
  let second: RunningService;
  let secondUrl: string;

  beforeAll(async () => {
    // No ingest role: these tests publish the health events themselves.
    svc = await startTestService({
      ROLES: 'api,worker',
      ALERT_GRACE_MS: '300',
      ALERT_RESOLVE_HOLD_MS: '300',
    });
    // A second API-only process on the same database schema and Redis.
    const config = loadConfig({
      ...Object.fromEntries(
        Object.entries(svc.config).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v ?? '')]),
      ),
      PORT: '0',
      ROLES: 'api',
    });
    second = await startService(config, { log: createLogger('silent') });
    secondUrl = second.url!;
  });
  afterAll(async () => {
    await second?.close();
    await svc?.stop();
  });

  it('refuses a handshake without a valid token', async () => {
    await expect(connectLive(svc.url, 'not-a-token')).rejects.toThrow(/unauthorized/);
  });

  it('delivers only what each role and tenancy allow', async () => {
    const plain = await seedSite(svc, 'Plain');
    const secret = await seedSite(svc, 'Secret', { confidential: true });
    const otherUnit = await seedSite(svc, 'Elsewhere');
    const supervisor = await makeUser(svc, 'supervisor');
    const idleSupervisor = await makeUser(svc, 'supervisor');
    const auditor = await makeUser(svc, 'auditor');
    const { batchId } = await runningSession(
      svc,
      plain.operator,
      plain.unit.id,
      plain.site.id,
      supervisor.id,
    );

    const clients: Record<string, LiveClient> = {};
    const who = {
      admin: plain.admin,
      auditor: auditor.client,
      operator: plain.operator,
      otherOperator: otherUnit.operator,
      supervisor: supervisor.client,
      idleSupervisor: idleSupervisor.client,
      secretOperator: secret.operator,
    };
    for (const [name, client] of Object.entries(who))
      clients[name] = await connectLive(svc.url, client.token!);
    const sub = async (name: string, target: object) =>
      (await clients[name]!.subscribe(target)).ok as boolean;

    expect(await sub('admin', { siteId: plain.site.id })).toBe(true);
    expect(await sub('admin', { siteId: secret.site.id })).toBe(false);
    expect(await sub('admin', { service: true })).toBe(true);
    expect(await sub('auditor', { siteId: plain.site.id })).toBe(true);
    expect(await sub('auditor', { siteId: secret.site.id })).toBe(false);
    expect(await sub('auditor', { service: true })).toBe(false);
    expect(await sub('operator', { siteId: plain.site.id })).toBe(true);
    expect(await sub('operator', { service: true })).toBe(false);
    expect(await sub('otherOperator', { siteId: plain.site.id })).toBe(false);
    expect(await sub('otherOperator', { batchId })).toBe(false);
    expect(await sub('otherOperator', { siteId: otherUnit.site.id })).toBe(true);
    expect(await sub('supervisor', { batchId })).toBe(true);
    expect(await sub('supervisor', { siteId: otherUnit.site.id })).toBe(false);
    expect(await sub('idleSupervisor', { siteId: plain.site.id })).toBe(false);
    expect(await sub('idleSupervisor', { batchId })).toBe(false);
    expect(await sub('secretOperator', { siteId: secret.site.id })).toBe(true);

    const fault = (s: typeof plain, active: boolean) => ({
      cameraId: s.camera.id,
      siteId: s.site.id,
      unitId: s.unit.id,
      kind: 'black' as const,
      active,
      at: now(),
    });
    await publish(svc, 'camera.fault', fault(plain, true));
    await publish(svc, 'camera.fault', fault(secret, true));
    await publish(svc, 'service.fault', { kind: 'upload_failing', active: true, at: now() });
    const opened = (name: string) => clients[name]!.events.filter((e) => e.name === 'alert.opened');
    await waitFor(
      () => opened('secretOperator').length === 1 && opened('admin').length === 2,
      10_000,
      'alerts',
    );
    await new Promise((r) => setTimeout(r, 500));
    const sites = (name: string) => opened(name).map((e) => e.alert.siteId ?? 'service');
    expect(sites('admin').sort()).toEqual([plain.site.id, 'service'].sort());
    expect(sites('auditor')).toEqual([plain.site.id]);
    expect(sites('operator')).toEqual([plain.site.id]);
    expect(sites('supervisor')).toEqual([plain.site.id]);
    expect(opened('supervisor')[0]!.alert).toMatchObject({ batchId, severity: 'critical' });
    expect(sites('otherOperator')).toEqual([]);
    expect(sites('idleSupervisor')).toEqual([]);
    expect(sites('secretOperator')).toEqual([secret.site.id]);
    for (const c of Object.values(clients)) {
      const seqs = c.events.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      c.close();
    }
    await publish(svc, 'service.fault', { kind: 'upload_failing', active: false, at: now() });
  });

  it('replays everything a client missed while disconnected, in order', async () => {
    const { admin, unit, site } = await seedSite(svc, 'Replay');
    let client = await connectLive(svc.url, admin.token!);
    const first = await client.subscribe({ siteId: site.id, afterSeq: 0 });
    expect(first.ok).toBe(true);
    const lastSeq = first.lastSeq as number;
    client.close();
    // 20 alerts open over 10 s while the client is away.
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      await publish(svc, 'session.not_ready', notReady(site, unit, i));
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitFor(
      async () => (await admin.get(`/alerts?siteId=${site.id}&limit=200`)).body.items.length === 20,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    client = await connectLive(svc.url, admin.token!);
    const again = await client.subscribe({ siteId: site.id, afterSeq: lastSeq });
    expect(again.replayed).toBe(20);
    const opened = client.events.filter((e) => e.name === 'alert.opened');
    expect(opened.map((e) => e.alert.detail)).toEqual(Array.from({ length: 20 }, (_, i) => `problem ${i}`));
    const seqs = client.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    // And it keeps receiving live events after the replay.
    await publish(svc, 'session.not_ready', notReady(site, unit, 0, false));
    await waitFor(
      () => client.events.some((e) => e.name === 'alert.resolved'),
      10_000,
      'a live event after replay',
    );
    client.close();
  }, 60_000);

  it('an alert raised in one process reaches a client of another, and back', async () => {
    const { admin, unit, site, camera } = await seedSite(svc, 'TwoProcs');
    const onSecond = await connectLive(secondUrl, admin.token!);
    const onFirst = await connectLive(svc.url, admin.token!);
    expect((await onSecond.subscribe({ siteId: site.id })).ok).toBe(true);
    expect((await onFirst.subscribe({ siteId: site.id })).ok).toBe(true);
    const ref = { cameraId: camera.id, siteId: site.id, unitId: unit.id };
    await publish(svc, 'camera.status', { ...ref, status: 'offline', reason: 'test', at: now() });
    const opened = await waitFor(
      () => onSecond.events.find((e) => e.name === 'alert.opened'),
      10_000,
      'alert on 2nd',
    );
    expect(onSecond.events.find((e) => e.name === 'camera.status')).toMatchObject({ status: 'offline' });
    // Acknowledged through the second process's REST API: the first process's client hears it.
    const viaSecond = new ApiClient(secondUrl, admin.token);
    expect((await viaSecond.post(`/alerts/${opened.alert.id}/ack`)).status).toBe(200);
    const updated = await waitFor(
      () => onFirst.events.find((e) => e.name === 'alert.updated'),
      10_000,
      'ack on 1st',
    );
    expect(updated.alert).toMatchObject({ id: opened.alert.id, state: 'acknowledged' });
    onFirst.close();
    onSecond.close();
  });
});

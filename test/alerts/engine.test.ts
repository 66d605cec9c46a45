import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBody } from '../../src/alerts/webhooks.js';
import type { FaultKind } from '../../src/ingest/camera-state.js';
import type { ServiceFaultKind } from '../../src/recording/events.js';
import { sql, startTestService, type TestService } from '../support/service.js';
import { alerts, connectLive, makeUser, now, publish, runningSession, seedSite, waitFor } from './helpers.js';

const CAMERA_FAULTS: [FaultKind, string][] = [
  ['offline', 'camera_offline'],
  ['stalled', 'camera_stalled'],
  ['black', 'picture_black'],
  ['frozen', 'picture_frozen'],
  ['blurred', 'picture_blurred'],
  ['covered', 'picture_covered'],
  ['moved', 'picture_moved'],
  ['low_fps', 'camera_degraded'],
  ['clock_skew', 'clock_skew'],
];
const SERVICE_FAULTS: ServiceFaultKind[] = [
  'storage_down',
  'storage_full',
  'upload_failing',
  'spool_pressure',
];

describe('alert engine: rules, grace, flapping, severity, API', () => {
  let svc: TestService;
  let hook: http.Server;
  const received: { body: string; signature: string }[] = [];
  let failFirst = true;

  beforeAll(async () => {
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        // The first delivery fails, so the retry path is exercised.
        if (failFirst) {
          failFirst = false;
          res.writeHead(500).end();
          return;
        }
        received.push({ body, signature: String(req.headers['x-ess-signature']) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    svc = await startTestService({
      // No ingest role: these tests publish the health events themselves.
      ROLES: 'api,worker',
      ALERT_GRACE_MS: '400',
      ALERT_RESOLVE_HOLD_MS: '400',
      LEASE_MS: '1000',
      WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      WEBHOOK_SECRET: 'hook-secret',
    });
  });
  afterAll(async () => {
    await svc?.stop();
    hook?.close();
  });

  it('every camera rule fires on its fault and resolves when it clears', async () => {
    const { admin, unit, site, camera } = await seedSite(svc, 'Rules');
    const ref = { cameraId: camera.id, siteId: site.id, unitId: unit.id };
    for (const [kind] of CAMERA_FAULTS)
      await publish(svc, 'camera.fault', { ...ref, kind, active: true, at: now() });
    const open = await waitFor(
      async () => {
        const list = await alerts(admin, `&siteId=${site.id}&state=open`);
        return list.length >= CAMERA_FAULTS.length ? list : null;
      },
      15_000,
      'camera alerts to open',
    );
    expect(new Set(open.map((a) => a.rule))).toEqual(new Set(CAMERA_FAULTS.map(([, r]) => r)));
    for (const a of open) {
      expect(a.subject).toEqual({ type: 'camera', id: camera.id });
      expect(a.severity).toBe('warning');
    }
    for (const [kind] of CAMERA_FAULTS)
      await publish(svc, 'camera.fault', { ...ref, kind, active: false, at: now() });
    await waitFor(
      async () => (await alerts(admin, `&siteId=${site.id}&state=unresolved`)).length === 0,
      15_000,
      'resolution',
    );
    const resolved = await alerts(admin, `&siteId=${site.id}&state=resolved`);
    expect(resolved).toHaveLength(CAMERA_FAULTS.length);
    for (const a of resolved) expect(a.resolvedAt).not.toBeNull();
  });

  it('a camera going offline uncovers its zone; both resolve when it returns', async () => {
    const { admin, unit, site, camera } = await seedSite(svc, 'Coverage');
    const ev = { cameraId: camera.id, siteId: site.id, unitId: unit.id, reason: 'no frames' };
    await sql(svc.schema, `UPDATE cameras SET status = 'online' WHERE id = $1`, [camera.id]);
    await publish(svc, 'camera.status', { ...ev, status: 'online', at: now() });
    await sql(svc.schema, `UPDATE cameras SET status = 'offline' WHERE id = $1`, [camera.id]);
    await publish(svc, 'camera.status', { ...ev, status: 'offline', at: now() });
    const open = await waitFor(async () => {
      const list = await alerts(admin, `&siteId=${site.id}&state=open`);
      return list.length >= 2 ? list : null;
    });
    const zone = open.find((a) => a.rule === 'zone_not_covered');
    expect(zone.subject).toEqual({ type: 'zone', id: site.zones[0].id });
    expect(open.find((a) => a.rule === 'camera_offline')).toBeTruthy();
    await sql(svc.schema, `UPDATE cameras SET status = 'online' WHERE id = $1`, [camera.id]);
    await publish(svc, 'camera.status', { ...ev, status: 'online', at: now() });
    await waitFor(async () => (await alerts(admin, `&siteId=${site.id}&state=unresolved`)).length === 0);
  });

  it('service faults and session readiness fire and resolve', async () => {
    const admin = await svc.admin();
    const { operator, unit, site } = await seedSite(svc, 'Ready');
    const { batchId, sessionId } = await runningSession(svc, operator, unit.id, site.id);
    for (const kind of SERVICE_FAULTS) await publish(svc, 'service.fault', { kind, active: true, at: now() });
    const ready = {
      batchId,
      sessionId,
      siteId: site.id,
      unitId: unit.id,
      problems: ['zone Room B not covered'],
    };
    await publish(svc, 'session.not_ready', { ...ready, active: true, at: now() });
    const open = await waitFor(async () => {
      const list = await alerts(admin, '&state=open');
      const rules = new Set(list.map((a) => a.rule));
      return [...SERVICE_FAULTS, 'session_not_ready'].every((r) => rules.has(r)) ? list : null;
    });
    const notReady = open.find((a) => a.rule === 'session_not_ready');
    expect(notReady).toMatchObject({
      subject: { type: 'batch', id: batchId },
      batchId,
      severity: 'critical',
    });
    expect(notReady.detail).toContain('Room B');
    // Unit operators never see service-wide alerts.
    expect((await alerts(operator, '&state=open')).map((a) => a.rule)).toEqual(['session_not_ready']);
    for (const kind of SERVICE_FAULTS)
      await publish(svc, 'service.fault', { kind, active: false, at: now() });
    await publish(svc, 'session.not_ready', { ...ready, active: false, at: now() });
    await waitFor(async () =>
      (await alerts(admin, '&state=unresolved')).every((a) => a.siteId && a.siteId !== site.id),
    );
  });

  it('a blip shorter than the grace is on the timeline but raises no alert', async () => {
    const { admin, unit, site, camera } = await seedSite(svc, 'Blip');
    const ref = { cameraId: camera.id, siteId: site.id, unitId: unit.id, kind: 'black' as const };
    await publish(svc, 'camera.fault', { ...ref, active: true, at: now() });
    await new Promise((r) => setTimeout(r, 100));
    await publish(svc, 'camera.fault', { ...ref, active: false, at: now() });
    const rows = await waitFor(async () => {
      const r = await sql<any>(
        svc.schema,
        'SELECT * FROM alert_timeline WHERE camera_id = $1 AND ended_at IS NOT NULL',
        [camera.id],
      );
      return r.length ? r : null;
    });
    expect(rows[0]).toMatchObject({ rule: 'picture_black', alert_id: null });
    await new Promise((r) => setTimeout(r, 800));
    expect(await alerts(admin, `&siteId=${site.id}`)).toEqual([]);
  });

  it('keeps its lease and its pending alerts through a burst of events longer than the lease', async () => {
    // Many cameras starting together queue far more events than the engine handles in one lease
    // (LEASE_MS is 1 s here). The renewal must not wait behind them: a lost lease dropped every
    // condition, and the alert of a camera that went dark during the burst never opened.
    const { admin, unit, site, camera } = await seedSite(svc, 'Burst');
    const noisy = await seedSite(svc, 'Burst noise');
    const dark = { cameraId: camera.id, siteId: site.id, unitId: unit.id, kind: 'black' as const };
    const noise = {
      cameraId: noisy.camera.id,
      siteId: noisy.site.id,
      unitId: noisy.unit.id,
      kind: 'frozen' as const,
    };
    const burst: Promise<void>[] = [];
    for (let i = 0; i < 600; i++)
      burst.push(publish(svc, 'camera.fault', { ...noise, active: i % 2 === 0, at: now() }));
    await Promise.all(burst);
    await publish(svc, 'camera.fault', { ...dark, active: true, at: now() });
    const [opened] = await waitFor(
      async () => {
        const list = await alerts(admin, `&siteId=${site.id}&state=open`);
        return list.length ? list : null;
      },
      30_000,
      'the dark camera alert after the burst',
    );
    expect(opened).toMatchObject({ rule: 'picture_black', subject: { type: 'camera', id: camera.id } });
    await publish(svc, 'camera.fault', { ...dark, active: false, at: now() });
  });

  it('folds a camera flapping ten times into one alert with a count', async () => {
    const { admin, unit, site, camera } = await seedSite(svc, 'Flap');
    const live = await connectLive(svc.url, admin.token!);
    expect((await live.subscribe({ siteId: site.id })).ok).toBe(true);
    const ref = { cameraId: camera.id, siteId: site.id, unitId: unit.id, kind: 'offline' as const };
    for (let i = 0; i < 10; i++) {
      await publish(svc, 'camera.fault', { ...ref, active: true, at: now() });
      await new Promise((r) => setTimeout(r, 40));
      await publish(svc, 'camera.fault', { ...ref, active: false, at: now() });
      await new Promise((r) => setTimeout(r, 40));
    }
    const resolved = await waitFor(async () => {
      const list = await alerts(admin, `&siteId=${site.id}&state=resolved`);
      return list.length ? list : null;
    });
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ rule: 'camera_offline', occurrences: 10 });
    // The resolution is in the database a moment before its push reaches the client.
    await waitFor(() => live.events.some((e) => e.name === 'alert.resolved'), 5000, 'the resolved push');
    expect(live.events.filter((e) => e.name === 'alert.opened')).toHaveLength(1);
    expect(live.events.filter((e) => e.name === 'alert.resolved')).toHaveLength(1);
    const timeline = await sql(svc.schema, 'SELECT alert_id FROM alert_timeline WHERE camera_id = $1', [
      camera.id,
    ]);
    expect(timeline).toHaveLength(10);
    expect(timeline.every((t: any) => t.alert_id === resolved[0].id)).toBe(true);
    live.close();
  });

  it('is critical while a session runs at the site; lists by batch; acknowledges with tenancy', async () => {
    const { unit, site, camera, operator } = await seedSite(svc, 'Critical');
    const other = await seedSite(svc, 'Other');
    const auditor = await makeUser(svc, 'auditor');
    const { batchId } = await runningSession(svc, operator, unit.id, site.id);
    const ref = { cameraId: camera.id, siteId: site.id, unitId: unit.id, kind: 'covered' as const };
    await publish(svc, 'camera.fault', { ...ref, active: true, at: now() });
    const [alert] = await waitFor(async () => {
      const list = await alerts(operator, `&batchId=${batchId}`);
      return list.length ? list : null;
    });
    expect(alert).toMatchObject({ severity: 'critical', batchId, state: 'open', rule: 'picture_covered' });
    expect(await alerts(other.operator, `&siteId=${site.id}`)).toEqual([]);
    expect((await other.operator.post(`/alerts/${alert.id}/ack`)).status).toBe(404);
    expect((await auditor.client.post(`/alerts/${alert.id}/ack`)).status).toBe(403);
    const acked = await operator.post(`/alerts/${alert.id}/ack`);
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: expect.any(String) });
    const audit = await sql<any>(svc.schema, 'SELECT action, actor_id FROM audit_log WHERE subject_id = $1', [
      alert.id,
    ]);
    expect(audit.map((a) => a.action)).toEqual(['alert.acknowledge']);
    await publish(svc, 'camera.fault', { ...ref, active: false, at: now() });
    const [done] = await waitFor(async () => {
      const list = await alerts(operator, `&batchId=${batchId}&state=resolved`);
      return list.length ? list : null;
    });
    expect(done.acknowledgedAt).not.toBeNull();
  });

  it('delivers alert events to the webhook, signed, retrying a failed delivery', async () => {
    await waitFor(() => received.length > 0, 20_000, 'a webhook delivery');
    const { body, signature } = received[0]!;
    expect(verifyBody('hook-secret', body, signature)).toBe(true);
    expect(verifyBody('other-secret', body, signature)).toBe(false);
    const event = JSON.parse(body);
    expect(event.name).toMatch(/^alert\./);
    expect(event.alert.id).toEqual(expect.any(String));
    expect(event.seq).toEqual(expect.any(Number));
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostileOnvifDevice } from '../../lab/hostile-onvif.js';
import { startLab, type Lab } from '../../lab/index.js';
import { seedUnit, sql, startTestService, type ApiClient, type TestService } from '../support/service.js';
import { expectError } from '../api/fixtures.js';

/**
 * Onboarding against a device that answers with addresses it should not (file://, the service's own
 * ports), with hundreds of megabytes, or with garbage: every case is a 422 naming what was refused,
 * nothing is stored, and the process stays responsive.
 */
describe('a hostile ONVIF device', () => {
  let lab: Lab;
  let svc: TestService;
  let operator: ApiClient;
  let siteId: string;
  let device: HostileOnvifDevice;

  beforeAll(async () => {
    lab = await startLab({ cameras: 1, width: 320, height: 180 });
    svc = await startTestService({ ROLES: 'api', ONVIF_TIMEOUT_MS: '3000', PROBE_TIMEOUT_MS: '4000' });
    const seeded = await seedUnit(svc);
    operator = seeded.operator;
    siteId = seeded.site.id;
    const cam = lab.cameras[0]!;
    device = new HostileOnvifDevice({ host: cam.onvif.host, port: cam.onvif.port });
    await device.listen();
  }, 60_000);

  afterAll(async () => {
    await device?.close();
    await svc?.stop();
    await lab?.stop();
  });

  beforeEach(() => {
    device.answers.clear();
    device.bytesSent = 0;
  });

  const register = () => {
    const cam = lab.cameras[0]!;
    return operator.post('/cameras', {
      siteId,
      name: 'Hostile',
      onvif: { host: device.host, port: device.port, username: cam.username, password: cam.password },
    });
  };
  const cameraCount = async () =>
    (await sql<{ n: number }>(svc.schema, 'SELECT count(*)::int AS n FROM cameras'))[0]!.n;

  /** Longest /healthz answer while `work` runs: the event loop must stay free. */
  async function worstHealthz<T>(work: Promise<T>): Promise<{ result: T; worstMs: number }> {
    let done = false;
    let worstMs = 0;
    const poll = (async () => {
      while (!done) {
        const t = Date.now();
        await fetch(`${svc.url}/healthz`);
        worstMs = Math.max(worstMs, Date.now() - t);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const result = await work.finally(() => (done = true));
    await poll;
    return { result, worstMs };
  }

  it('is a working device when it passes everything through (the harness itself)', async () => {
    const res = await register();
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await sql(svc.schema, 'DELETE FROM camera_zones');
    await sql(svc.schema, 'DELETE FROM cameras');
  }, 30_000);

  it('answering GetStreamUri with file:// is refused by scheme', async () => {
    device.answers.set('GetStreamUri', { kind: 'uri', uri: 'file:///etc/passwd' });
    const res = await register();
    expectError(res, 422, 'device_address_refused');
    expect(res.body.error.message).toContain('GetStreamUri answer');
    expect(res.body.error.message).toContain('rtsp://');
    expect(JSON.stringify(res.body)).not.toContain('/etc/passwd');
    expect(await cameraCount()).toBe(0);
  });

  it("answering GetStreamUri with the service's own Redis is refused after resolution", async () => {
    const redisPort = new URL(svc.config.REDIS_URL!).port || '6379';
    device.answers.set('GetStreamUri', { kind: 'uri', uri: `rtsp://localhost:${redisPort}/x` });
    const res = await register();
    expectError(res, 422, 'device_address_refused');
    expect(res.body.error.message).toContain('Redis');
    expect(await cameraCount()).toBe(0);
  });

  it("answering GetSnapshotUri with the service's own API is refused (no fetch of it ever happens)", async () => {
    const port = new URL(svc.url).port;
    device.answers.set('GetSnapshotUri', { kind: 'uri', uri: `http://127.0.0.1:${port}/anything` });
    const res = await register();
    expectError(res, 422, 'device_address_refused');
    expect(res.body.error.message).toContain('GetSnapshotUri answer');
    expect(res.body.error.message).toContain('HTTP API');
    device.answers.set('GetSnapshotUri', { kind: 'uri', uri: 'file:///etc/passwd' });
    expectError(await register(), 422, 'device_address_refused');
    expect(await cameraCount()).toBe(0);
  }, 30_000);

  it('a 200 MB reply is cut off at the byte limit without stalling the process', async () => {
    device.answers.set('GetDeviceInformation', { kind: 'huge', bytes: 200_000_000 });
    const heapBefore = process.memoryUsage().heapUsed;
    const { result: res, worstMs } = await worstHealthz(register());
    expectError(res, 422, 'onvif_reply_refused');
    expect(res.body.error.message).toMatch(/larger than 1000000 bytes/);
    expect(worstMs).toBeLessThan(1000);
    expect(device.bytesSent).toBeLessThan(50_000_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(60_000_000);
    expect(await cameraCount()).toBe(0);
  }, 30_000);

  it('a reply shaped to stall the XML clean-up (xmlns without =) is refused before parsing', async () => {
    device.answers.set('GetDeviceInformation', { kind: 'xmlns_bomb', bytes: 900_000 });
    const { result: res, worstMs } = await worstHealthz(register());
    expectError(res, 422, 'onvif_reply_refused');
    expect(worstMs).toBeLessThan(1000);
  }, 30_000);

  it('garbage and hollow replies are 422 with the device named, never a TypeError', async () => {
    for (const [action, kind] of [
      ['GetDeviceInformation', 'garbage'],
      ['GetStreamUri', 'garbage'],
      ['GetStreamUri', 'hollow'],
      ['GetProfiles', 'hollow'],
      ['GetSystemDateAndTime', 'garbage'],
    ] as const) {
      device.answers.clear();
      device.answers.set(action, { kind });
      const res = await register();
      expect(res.status, `${action} ${kind}: ${JSON.stringify(res.body)}`).toBe(422);
      expect(res.body.error.message).toContain(`127.0.0.1:${device.port}`);
      expect(res.body.error.message).not.toMatch(/TypeError|Cannot read|undefined/);
    }
    expect(await cameraCount()).toBe(0);
  }, 60_000);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { freePort } from '../../src/platform/ports.js';
import { seedUnit, sql, startTestService, type ApiClient, type TestService } from '../support/service.js';
import { rewritingProxy, silentServer } from './helpers.js';

let lab: Lab;
let svc: TestService;
let op: ApiClient;
let siteId: string;

beforeAll(async () => {
  lab = await startLab({ cameras: 1, mode: 'live', width: 320, height: 180 });
  svc = await startTestService({ ROLES: 'api', ONVIF_TIMEOUT_MS: '1500', PROBE_TIMEOUT_MS: '3000' });
  const seeded = await seedUnit(svc);
  op = seeded.operator;
  siteId = seeded.site.id;
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await lab?.stop();
});

const cameraCount = async () =>
  Number((await sql<{ n: string }>(svc.schema, 'SELECT count(*) AS n FROM cameras'))[0]!.n);

describe('onboarding against the camera lab', () => {
  it('registers a camera by ONVIF: profiles, main and sub by resolution, probed streams, clock', async () => {
    const cam = lab.cameras[0]!;
    const r = await op.post('/cameras', {
      siteId,
      name: 'Room A east',
      onvif: { host: cam.onvif.host, port: cam.onvif.port, username: cam.username, password: cam.password },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.source).toBe('onvif');
    expect(r.body.streams).toEqual([
      { profile: 'main', rtspUrl: cam.rtspNoAuth.main, codec: 'h264', width: 320, height: 180, fps: 15 },
      { profile: 'sub', rtspUrl: cam.rtspNoAuth.sub, codec: 'h264', width: 160, height: 90, fps: 15 },
    ]);
    expect(Math.abs(r.body.health.clockSkewMs)).toBeLessThan(1500);
    expect(JSON.stringify(r.body)).not.toContain(cam.password);
    const [row] = await sql<{ snapshot_uri: string; device: { manufacturer: string } }>(
      svc.schema,
      'SELECT snapshot_uri, device FROM cameras WHERE id = $1',
      [r.body.id],
    );
    expect(row!.snapshot_uri).toBe(cam.snapshotUrl);
    expect(row!.device.manufacturer).toBe('ExamLab');
  });

  it('registers a camera by RTSP address after probing it', async () => {
    const cam = lab.cameras[0]!;
    const r = await op.post('/cameras', { siteId, name: 'Room B', rtspUrl: cam.rtsp.main });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.rtspUrl).toBe(cam.rtspNoAuth.main);
    expect(r.body.streams[0]).toMatchObject({ codec: 'h264', width: 320, height: 180 });
  });

  it('fails with specific errors and stores nothing', async () => {
    const cam = lab.cameras[0]!;
    const before = await cameraCount();
    const deadPort = await freePort();
    const silent = await silentServer();
    const jpegOnly = await rewritingProxy(cam.onvif.port, (b) => b.replaceAll('>H264<', '>JPEG<'));
    try {
      const cases: [unknown, string][] = [
        [{ rtspUrl: cam.rtspNoAuth.main.replace('rtsp://', 'rtsp://admin:wrong@') }, 'rtsp_auth_refused'],
        [{ rtspUrl: cam.rtsp.main.replace('/main', '/nothing') }, 'stream_not_found'],
        [{ rtspUrl: `rtsp://127.0.0.1:${deadPort}/x` }, 'stream_unreachable'],
        [{ rtspUrl: `rtsp://127.0.0.1:${silent.port}/x` }, 'stream_timeout'],
        [
          { onvif: { host: '127.0.0.1', port: cam.onvif.port, username: cam.username, password: 'nope' } },
          'onvif_auth_refused',
        ],
        [{ onvif: { host: '127.0.0.1', port: deadPort, username: 'a', password: 'b' } }, 'host_unreachable'],
        [{ onvif: { host: '127.0.0.1', port: silent.port, username: 'a', password: 'b' } }, 'device_timeout'],
        [
          {
            onvif: { host: '127.0.0.1', port: jpegOnly.port, username: cam.username, password: cam.password },
          },
          'no_h264_profile',
        ],
      ];
      for (const [body, code] of cases) {
        const started = Date.now();
        const r = await op.post('/cameras', { siteId, name: 'Broken', ...(body as object) });
        expect({ code: r.body.error?.code ?? r.body.code, status: r.status }).toEqual({ code, status: 422 });
        expect(Date.now() - started).toBeLessThan(8000);
      }
      // The lab's wrong_credentials fault: the camera itself refuses its usual password.
      await lab.inject(cam.id, 'wrong_credentials');
      const refused = await op.post('/cameras', { siteId, name: 'Broken', rtspUrl: cam.rtsp.main });
      expect(refused.status).toBe(422);
      await lab.clear(cam.id, 'wrong_credentials');
    } finally {
      await silent.close();
      await jpegOnly.close();
    }
    expect(await cameraCount()).toBe(before);
  }, 90_000);
});

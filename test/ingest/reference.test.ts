import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../lab/index.js';
import { seedUnit, type ApiClient, type TestService } from '../support/service.js';
import { startSmallCameraService, waitFor } from './helpers.js';

// Issue 13: a camera added as the README shows was never checked for moved or blurred, because no
// reference picture was taken unless someone asked. Now the service takes one by itself once the
// picture has stayed healthy and still, shows it, and an operator can retake it.
let lab: Lab;
let svc: TestService;
let op: ApiClient;
let cameraId: string;

beforeAll(async () => {
  ({ lab, svc } = await startSmallCameraService({ PICTURE_REFERENCE_AFTER_MS: '4000' }));
  const { operator, site } = await seedUnit(svc);
  op = operator;
  const r = await op.post('/cameras', {
    siteId: site.id,
    name: 'Room R',
    rtspUrl: lab.cameras[0]!.rtsp.main,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  cameraId = r.body.id;
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await lab?.stop();
});

const jpeg = async (path: string) => {
  const res = await fetch(`${svc.url}/api/v1${path}`, { headers: { authorization: `Bearer ${op.token}` } });
  return { type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
};

describe('the reference picture', () => {
  it('is taken by the service once the picture has stayed healthy, shown, and retaken by an operator', async () => {
    expect((await op.get(`/cameras/${cameraId}/reference`)).status).toBe(404);
    await waitFor(
      async () => (await op.get(`/cameras/${cameraId}`)).body.health.referenceSet,
      30_000,
      'reference',
    );
    const auto = await waitFor(
      async () => {
        const r = await op.get(`/cameras/${cameraId}/reference`);
        return r.status === 200 ? r.body : null;
      },
      10_000,
      'reference stored',
    );
    expect(auto).toMatchObject({ cameraId, width: 320, height: 180, source: 'auto' });
    const shown = await jpeg(`/cameras/${cameraId}/reference.jpg`);
    expect(shown.type).toBe('image/jpeg');
    expect(shown.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const retaken = await op.post(`/cameras/${cameraId}/reference`);
    expect(retaken.status).toBe(201);
    expect(retaken.body).toMatchObject({ source: 'operator', width: 320, height: 180 });
    expect((await op.get(`/cameras/${cameraId}/reference`)).body.source).toBe('operator');
  }, 60_000);

  it('judges a camera knocked aside by the picture alone when the camera has no analytics', async () => {
    await lab.inject(lab.cameras[0]!.id, 'moved');
    try {
      // An RTSP-only camera has no analytics of its own: this is the picture checks' judgement.
      const c = await waitFor(
        async () => {
          const cam = (await op.get(`/cameras/${cameraId}`)).body;
          return cam.health.faults.includes('moved') ? cam : null;
        },
        15_000,
        'moved',
      );
      expect(c.health.faultSources).toEqual({ moved: ['checks'] });
    } finally {
      await lab.clear(lab.cameras[0]!.id, 'moved');
    }
  }, 30_000);
});

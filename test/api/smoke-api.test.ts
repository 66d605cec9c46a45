import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUnit, startTestService, type TestService } from '../support/service.js';
import { REGISTRY_ENV } from './fixtures.js';

describe('API basics on real Postgres', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(REGISTRY_ENV);
  });
  afterAll(async () => svc?.stop());

  it('logs in, registers a unit, site and camera, and never returns the camera password', async () => {
    const { site, operator } = await seedUnit(svc);
    const cam = await operator.post('/cameras', {
      siteId: site.id,
      name: 'Cam 1',
      rtspUrl: 'rtsp://user:s3cret@127.0.0.1:8554/cam1/main',
    });
    expect(cam.status).toBe(201);
    expect(JSON.stringify(cam.body)).not.toContain('s3cret');
    expect(cam.body.rtspUrl).toBe('rtsp://127.0.0.1:8554/cam1/main');
    const zones = await operator.put(`/cameras/${cam.body.id}/zones`, { zoneIds: [site.zones[0].id] });
    expect(zones.body.zoneIds).toEqual([site.zones[0].id]);
    const detail = await operator.get(`/sites/${site.id}`);
    expect(detail.body.coverage).toHaveLength(2);
    expect(detail.body.coverage[0].cameraIds).toEqual([cam.body.id]);
  });
});

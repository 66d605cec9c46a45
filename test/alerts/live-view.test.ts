import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { startTestService, type TestService } from '../support/service.js';
import { makeUser, pushToMedia, runningSession, seedSite, waitFor } from './helpers.js';

/** First bytes of a media response, or its status and JSON when refused. */
async function readMedia(url: string, bytes = 4096): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200 || !res.body)
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  const reader = res.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < bytes) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    total += value.length;
  }
  await reader.cancel();
  return { status: res.status, body: Buffer.concat(chunks) };
}

/** A WebSocket upgrade by hand: the status line and the first frame bytes. */
function wsUpgrade(url: string): Promise<{ status: number; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url.replace(/^ws/, 'http'), {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
      },
    });
    req.on('upgrade', (res, socket, head) => {
      const chunks: Buffer[] = [head];
      socket.on('data', (d: Buffer) => {
        chunks.push(d);
        if (Buffer.concat(chunks).length > 1024) {
          socket.destroy();
          resolve({ status: res.statusCode!, data: Buffer.concat(chunks) });
        }
      });
      setTimeout(() => {
        socket.destroy();
        resolve({ status: res.statusCode!, data: Buffer.concat(chunks) });
      }, 8000);
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode!, data: Buffer.alloc(0) });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('live view: signed FLV URLs in front of node-media-server', () => {
  let svc: TestService;
  let procs: ChildProcess[] = [];

  beforeAll(async () => {
    svc = await startTestService({ ROLES: 'api,ingest', LIVE_URL_TTL_SECONDS: '60', LIVE_IDLE_MS: '1000' });
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await svc?.stop();
  });

  it('plays HTTP-FLV and WS-FLV with a valid URL; refuses forged, expired and other users’ URLs', async () => {
    const { unit, site, camera, operator, admin } = await seedSite(svc, 'Live');
    const media = svc.services.mediaServer!;
    procs = pushToMedia(svc, camera.id);
    await waitFor(() => media.isPublishing(camera.id), 20_000, 'the push to reach the media server');

    const supervisor = await makeUser(svc, 'supervisor');
    await runningSession(svc, operator, unit.id, site.id, supervisor.id);
    const live = await supervisor.client.get(`/cameras/${camera.id}/live`);
    expect(live.status).toBe(200);
    expect(new Date(live.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(live.body.wsFlvUrl).toMatch(/^ws:\/\//);

    const ok = await readMedia(live.body.flvUrl);
    expect(ok.status).toBe(200);
    expect(ok.body.subarray(0, 3).toString()).toBe('FLV');
    expect(ok.body.length).toBeGreaterThan(1000);
    await waitFor(() => media.players(camera.id) === 0, 5000, 'the viewer to detach');

    const ws = await wsUpgrade(live.body.wsFlvUrl);
    expect(ws.status).toBe(101);
    expect(ws.data.includes(Buffer.from('FLV'))).toBe(true);

    const url = new URL(live.body.flvUrl);
    const forged = new URL(url);
    forged.searchParams.set('sig', `${url.searchParams.get('sig')!.slice(0, -2)}AA`);
    const otherUser = new URL(url);
    otherUser.searchParams.set('uid', (await makeUser(svc, 'supervisor')).id);
    const expired = new URL(url);
    const past = Math.floor(Date.now() / 1000) - 1;
    expired.searchParams.set('exp', String(past));
    expired.searchParams.set('sig', svc.services.liveView.sign(camera.id, supervisor.id, past));
    for (const bad of [forged, otherUser, expired]) {
      const r = await readMedia(bad.toString());
      expect(r.status).toBe(403);
      expect(r.body.subarray(0, 3).toString()).not.toBe('FLV');
      expect((await wsUpgrade(bad.toString().replace(/^http/, 'ws'))).status).toBe(403);
    }
    // The unit's other users and unassigned supervisors do not even get URLs.
    const idle = await makeUser(svc, 'supervisor');
    expect((await idle.client.get(`/cameras/${camera.id}/live`)).status).toBe(404);
    expect((await admin.get(`/cameras/${camera.id}/live`)).status).toBe(200);
  });

  it('offers no live view of a confidential unit to platform viewers', async () => {
    const { camera, operator, admin } = await seedSite(svc, 'Classified', { confidential: true });
    expect((await admin.get(`/cameras/${camera.id}/live`)).status).toBe(403);
    const auditor = await makeUser(svc, 'auditor');
    expect((await auditor.client.get(`/cameras/${camera.id}/live`)).status).toBe(403);
    expect((await operator.get(`/cameras/${camera.id}/live`)).status).toBe(200);
  });

  it('relays a camera only while someone watches, without touching its supervised pull', async () => {
    let lab: Lab | null = null;
    try {
      lab = await startLab({ cameras: 1, mode: 'live', width: 320, height: 240, fps: 15 });
      const { site, admin } = await seedSite(svc, 'On demand');
      const cam = await admin.post('/cameras', {
        siteId: site.id,
        name: 'Door',
        rtspUrl: lab.cameras[0]!.rtsp.main,
      });
      expect(cam.status, JSON.stringify(cam.body)).toBe(201);
      const id: string = cam.body.id;
      const up = async () => ['online', 'degraded'].includes((await admin.get(`/cameras/${id}`)).body.status);
      await waitFor(up, 30_000, 'the camera to be supervised');
      const media = svc.services.mediaServer!;
      const relay = svc.services.liveRelay!;
      const reconnects = svc.ingest!.supervisor(id)!.health().reconnects;
      expect(media.isPublishing(id)).toBe(false);
      expect(relay.active()).toEqual([]);

      const live = await admin.get(`/cameras/${id}/live`);
      const played = await readMedia(live.body.flvUrl, 20_000);
      expect(played.status).toBe(200);
      expect(played.body.subarray(0, 3).toString()).toBe('FLV');
      // Past the FLV header and metadata: video tags (type 9) from the camera.
      expect(played.body.length).toBeGreaterThanOrEqual(20_000);
      expect(played.body.includes(Buffer.from([9]), 13)).toBe(true);

      await waitFor(
        () => relay.active().length === 0 && !media.isPublishing(id),
        15_000,
        'the relay to stop',
      );
      expect(svc.ingest!.supervisor(id)!.health().reconnects).toBe(reconnects);
      expect(await up()).toBe(true);
    } finally {
      await lab?.stop();
    }
  }, 90_000);
});

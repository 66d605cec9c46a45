import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { camCall, connectCam } from '../../lab/onvif-client.js';
import { probe } from '../../lab/observe.js';

// A small picture keeps live encoding cheap on a 2-core machine; the protocol paths are the same.
let lab: Lab;
beforeAll(async () => {
  lab = await startLab({ cameras: 2, mode: 'live', width: 640, height: 360, fps: 15 });
});
afterAll(async () => {
  await lab?.stop();
});

describe('RTSP', () => {
  it('serves main and sub of every camera over TCP and UDP with the advertised codec, size and rate', async () => {
    for (const transport of ['tcp', 'udp'] as const) {
      // Both cameras at once: they are separate servers, as on a real site.
      await Promise.all(
        lab.cameras.map(async (cam) => {
          for (const kind of ['main', 'sub'] as const) {
            const s = await probe(cam.rtsp[kind], transport);
            expect(s, `${cam.id} ${kind} ${transport}`).toEqual({
              codec: 'h264',
              width: cam[kind].width,
              height: cam[kind].height,
              fps: cam[kind].fps,
            });
          }
        }),
      );
    }
    expect(lab.cameras[0]!.main).toMatchObject({ width: 640, height: 360 });
    expect(lab.cameras[0]!.sub).toMatchObject({ width: 320, height: 180 });
  });

  it('refuses RTSP without credentials and with a wrong password', async () => {
    const cam = lab.cameras[0]!;
    await expect(probe(cam.rtspNoAuth.main)).rejects.toThrow(/401/);
    const wrong = cam.rtsp.main.replace(`:${cam.password}@`, ':nope@');
    await expect(probe(wrong)).rejects.toThrow(/401/);
  });
});

describe('ONVIF', () => {
  it('onboards with the onvif client: device info, profiles, stream and snapshot URIs', async () => {
    const cam = lab.cameras[1]!;
    const c = await connectCam({
      hostname: cam.onvif.host,
      port: cam.onvif.port,
      username: cam.username,
      password: cam.password,
    });
    const info = await camCall<{ manufacturer: string; serialNumber: string }>((cb) =>
      c.getDeviceInformation(cb),
    );
    expect(info.manufacturer).toBe('ExamLab');
    expect(info.serialNumber).toBe(`LAB-${cam.id}`);

    const profiles = await camCall<typeof c.profiles>((cb) => c.getProfiles(cb));
    expect(profiles.map((p) => p.$.token)).toEqual(['main', 'sub']);
    const main = profiles[0]!.videoEncoderConfiguration!;
    expect(main.encoding).toBe('H264');
    expect(main.resolution).toEqual({ width: 640, height: 360 });
    expect(main.rateControl?.frameRateLimit).toBe(15);
    expect(profiles[1]!.videoEncoderConfiguration!.resolution).toEqual({ width: 320, height: 180 });

    const uri = await camCall<{ uri: string }>((cb) =>
      c.getStreamUri({ protocol: 'RTSP', profileToken: 'sub' }, cb),
    );
    expect(uri.uri).toBe(cam.rtspNoAuth.sub);
    // The advertised URI plays with the camera's credentials.
    const withCreds = uri.uri.replace('rtsp://', `rtsp://${cam.username}:${cam.password}@`);
    expect((await probe(withCreds)).width).toBe(320);

    const snap = await camCall<{ uri: string }>((cb) => c.getSnapshotUri({ profileToken: 'main' }, cb));
    expect(snap.uri).toBe(cam.snapshotUrl);
    const res = await fetch(snap.uri);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    const jpeg = Buffer.from(await res.arrayBuffer());
    expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
  });

  it('refuses a wrong password with ter:NotAuthorized but answers GetSystemDateAndTime', async () => {
    const cam = lab.cameras[0]!;
    const err = await connectCam({
      hostname: cam.onvif.host,
      port: cam.onvif.port,
      username: cam.username,
      password: 'wrong',
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/not authorized/i);

    const res = await fetch(cam.onvif.xaddr, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml' },
      body:
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' +
        '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('ter:NotAuthorized');
  });
});

describe('control API', () => {
  it('lists cameras, injects and clears faults over HTTP', async () => {
    const list = (await (await fetch(`${lab.controlUrl}/cameras`)).json()) as {
      id: string;
      faults: unknown[];
    }[];
    expect(list.map((c) => c.id)).toEqual(['cam1', 'cam2']);

    const post = await fetch(`${lab.controlUrl}/cameras/cam2/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'clock_skew', skewMs: 120_000, durationMs: 60_000 }),
    });
    expect(post.status).toBe(201);
    expect(lab.faults('cam2')).toEqual([expect.objectContaining({ kind: 'clock_skew', skewMs: 120_000 })]);

    const bad = await fetch(`${lab.controlUrl}/cameras/cam2/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'melted' }),
    });
    expect(bad.status).toBe(400);
    expect((await fetch(`${lab.controlUrl}/cameras/cam9/faults`)).status).toBe(404);

    const del = await fetch(`${lab.controlUrl}/cameras/cam2/faults/clock_skew`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(lab.faults('cam2')).toEqual([]);
  });
});

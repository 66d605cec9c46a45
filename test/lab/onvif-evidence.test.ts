import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import type { CameraNotification } from '../../src/ingest/onvif-replies.js';
import { OnvifClient, type OnvifSession } from '../../src/ingest/onvif-client.js';
import { OnvifEvidence } from '../../src/ingest/onvif-evidence.js';
import type { EncoderSettings } from '../../src/ingest/picture-watch.js';
import { createLogger } from '../../src/platform/logger.js';
import { waitFor } from '../ingest/helpers.js';

// What a camera says about its own picture, read over real ONVIF from the lab's device: the encoder
// settings (a low_bitrate fault is an encoder set too low) and the analytics' tamper events.
let lab: Lab;
let session: OnvifSession;
const id = () => lab.cameras[0]!.id;

beforeAll(async () => {
  lab = await startLab({ cameras: 1, mode: 'scale', width: 320, height: 180 });
  const cam = lab.cameras[0]!;
  session = await new OnvifClient(5000).connect({
    host: cam.onvif.host,
    port: cam.onvif.port,
    username: cam.username,
    password: cam.password,
  });
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

describe("a lab camera's own evidence over ONVIF", () => {
  it('reports its encoder settings, lowered by a low_bitrate fault', async () => {
    const main = session.profiles().find((p) => p.token === 'main')!;
    expect(main.encoderToken).toBe('VideoEncoder_main');
    expect(await session.encoderSettings(main.encoderToken!)).toEqual({
      encoding: 'H264',
      width: 320,
      height: 180,
      frameRateLimit: 15,
      bitrateLimit: 256,
      constantBitRate: null,
    });
    await lab.inject(id(), 'low_bitrate');
    expect((await session.encoderSettings(main.encoderToken!)).bitrateLimit).toBe(16);
    await lab.clear(id(), 'low_bitrate');
  });

  it('sends tamper and scene-change events on a pull-point subscription', async () => {
    expect(await session.subscribeEvents()).toBe(true);
    const seen: CameraNotification[] = [];
    const pullUntil = (ok: (n: CameraNotification) => boolean) =>
      waitFor(async () => {
        const got = await session.pullEvents();
        seen.push(...got);
        return got.find(ok);
      }, 15_000);
    await pullUntil((n) => n.operation === 'Initialized' && n.topic === 'RuleEngine/TamperDetector/Tamper');
    expect(seen.filter((n) => n.operation === 'Initialized').map((n) => [n.topic, n.state])).toEqual([
      ['RuleEngine/TamperDetector/Tamper', false],
      ['VideoSource/GlobalSceneChange/AnalyticsService', false],
    ]);
    await lab.inject(id(), 'covered');
    await pullUntil((n) => n.topic === 'RuleEngine/TamperDetector/Tamper' && n.state === true);
    await lab.clear(id(), 'covered');
    await pullUntil((n) => n.topic === 'RuleEngine/TamperDetector/Tamper' && n.state === false);
    await session.renewEvents();
  }, 40_000);

  it('hands the settings and the events to the camera supervisor', async () => {
    const reports: [string, boolean, string][] = [];
    const encoders: (EncoderSettings | null)[] = [];
    const evidence = new OnvifEvidence(
      id(),
      {
        setEncoder: (s) => void encoders.push(s),
        cameraReports: (kind, active, topic) => void reports.push([kind, active, topic]),
      },
      createLogger('silent'),
    );
    const cam = lab.cameras[0]!;
    const fresh = await new OnvifClient(5000).connect({
      host: cam.onvif.host,
      port: cam.onvif.port,
      username: cam.username,
      password: cam.password,
    });
    try {
      await evidence.refresh(fresh);
      expect(encoders[0]?.bitrateLimit).toBe(256);
      await waitFor(() => reports.length >= 2, 10_000, 'initial states');
      await lab.inject(id(), 'moved');
      await waitFor(() => reports.find(([k, a]) => k === 'moved' && a), 10_000, 'scene change reported');
      expect(reports.find(([k, a]) => k === 'moved' && a)?.[2]).toBe(
        'VideoSource/GlobalSceneChange/AnalyticsService',
      );
    } finally {
      evidence.stop();
      await lab.clear(id(), 'moved');
    }
  }, 40_000);
});

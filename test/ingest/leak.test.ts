import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../lab/index.js';
import { seedUnit, type ApiClient, type TestService } from '../support/service.js';
import { startSmallCameraService, waitFor } from './helpers.js';

/** CI runs a few cycles; a long run sets LEAK_CYCLES=200. */
const CYCLES = Number(process.env.LEAK_CYCLES ?? 10);
let lab: Lab;
let svc: TestService;
let op: ApiClient;
let cameraId: string;

beforeAll(async () => {
  ({ lab, svc } = await startSmallCameraService({
    FLOOR_MIN_KBPS: '10',
    // The lab camera sends 15 fps; on a loaded CI machine the measured rate dips below the default
    // floor of 15 and the camera is `degraded`, which is not what this test is about.
    FLOOR_MIN_FPS: '5',
    HEALTH_PERSIST_MS: '300',
    RECONNECT_MAX_MS: '500',
  }));
  const { operator, site } = await seedUnit(svc);
  op = operator;
  cameraId = (
    await op.post('/cameras', { siteId: site.id, name: 'Leak', rtspUrl: lab.cameras[0]!.rtsp.main })
  ).body.id;
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  await lab?.stop();
});

/** Resolves when the camera reaches `want`; a timeout names the status it was in instead. */
const statusIs = (want: string) => async () => {
  const { status, health } = (await op.get(`/cameras/${cameraId}`)).body;
  if (status === want) return true;
  throw new Error(`${status} ${JSON.stringify(health?.faults ?? health ?? null)}`);
};

describe('no leaks across fault cycles', () => {
  it(
    `returns to one ffmpeg and the same memory after ${CYCLES} offline/stall cycles`,
    async () => {
      await waitFor(statusIs('online'), 20_000, 'online');
      global.gc?.();
      const processesBefore = svc.services.processes.count;
      const heapBefore = process.memoryUsage().heapUsed;
      for (let i = 0; i < CYCLES; i++) {
        const kind = i % 2 === 0 ? 'offline' : 'stalled';
        await lab.inject(lab.cameras[0]!.id, kind);
        await waitFor(statusIs('offline'), 5000, `${kind} seen`, 50);
        await lab.clear(lab.cameras[0]!.id, kind);
        await waitFor(statusIs('online'), 15_000, 'online again', 100);
      }
      await waitFor(() => svc.services.processes.count === processesBefore, 5000, 'process count back');
      global.gc?.();
      const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
      console.log(
        `after ${CYCLES} cycles: ${svc.services.processes.count} processes (was ${processesBefore}), heap +${grownMb.toFixed(1)} MB`,
      );
      expect(svc.services.processes.count).toBe(1);
      expect(grownMb).toBeLessThan(30);
    },
    60_000 + CYCLES * 15_000,
  );
});

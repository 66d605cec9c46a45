import {
  checkStoredStream,
  DEFAULT_CAMERA_NETWORKS,
  NetworkPolicy,
} from '../../src/ingest/camera-address.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/schema.js';
import { startLab } from '../../lab/index.js';
import { runWithDeadline } from '../../lab/observe.js';
import { SYSTEM_PYTHON } from '../../lab/rtsp-process.js';
import type { StateChange } from '../../src/ingest/camera-state.js';
import { pullInputList } from '../../src/ingest/ffmpeg-args.js';
import { supervisorSettings } from '../../src/ingest/ingest-manager.js';
import { ProcessSupervisor } from '../../src/platform/processes.js';
import { StreamOutputs } from '../../src/ingest/stream-outputs.js';
import { StreamSupervisor, type CameraHealth } from '../../src/ingest/stream-supervisor.js';
import { createLogger } from '../../src/platform/logger.js';
import { waitFor } from './helpers.js';

// Cameras serve several clients (an NVR, a vendor app): one extra `ffmpeg -i rtsp://…` pull of a
// camera for 4 s must not make the supervisor see fps 0 (low_fps) or stop sampling pictures.

const MIN_FPS = 10;
const settings = supervisorSettings(
  loadConfig({
    FLOOR_MIN_HEIGHT: '120',
    FLOOR_MIN_FPS: String(MIN_FPS),
    FLOOR_MIN_KBPS: '20',
    RECONNECT_MAX_MS: '1000',
  }),
);

interface TestCamera {
  url: string;
  black(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** The project's camera lab, one live camera. */
async function labCamera(): Promise<TestCamera> {
  const lab = await startLab({ cameras: 1, mode: 'live', width: 320, height: 180, fps: 15 });
  const id = lab.cameras[0]!.id;
  return {
    url: lab.cameras[0]!.rtsp.main,
    black: (on) => (on ? lab.inject(id, 'black') : lab.clear(id, 'black')),
    stop: () => lab.stop(),
  };
}

/** gst-rtsp-server as its own example sets it up (shared, seekable media): see the fixture. */
async function stockCamera(): Promise<TestCamera> {
  const script = fileURLToPath(new URL('./fixtures/stock_rtsp_server.py', import.meta.url));
  const child = spawn(SYSTEM_PYTHON, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout }), 'line'),
    exited.then(() => Promise.reject(new Error('stock RTSP server exited'))),
  ])) as [string];
  const { port } = JSON.parse(line) as { port: number };
  return {
    url: `rtsp://127.0.0.1:${port}/stream`,
    black: async (on) => {
      child.stdin.write(on ? 'black\n' : 'normal\n');
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end(); // the server exits when stdin closes
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** One stream supervisor as the ingest role runs it (no outputs), recording its state changes. */
function supervise(url: string) {
  const log = createLogger('silent');
  const processes = new ProcessSupervisor(log);
  const changes: StateChange[] = [];
  const sup = new StreamSupervisor(
    { id: 'cam', siteId: 'site', unitId: 'unit', name: 'Cam' },
    url,
    settings,
    {
      processes,
      outputs: new StreamOutputs(),
      log,
      onChange: (c) => changes.push(...c),
      onReference: () => undefined,
      checkAddress: () => checkStoredStream(new NetworkPolicy({ networks: DEFAULT_CAMERA_NETWORKS }), url),
    },
  );
  sup.start();
  return {
    sup,
    changes,
    stop: async () => {
      await sup.stop();
      await processes.close();
    },
  };
}

const raised = (changes: StateChange[], kind: string) =>
  changes.some((c) => c.type === 'fault' && c.kind === kind && c.active);

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('supervision while another client pulls the same camera', () => {
  it('stamps the pull with read time, whatever the camera does with its timestamps', () => {
    expect(pullInputList('rtsp://u:p@cam/main', 5000)).toBe(
      "ffconcat version 1.0\nfile 'rtsp://u:p@cam/main'\noption rtsp_transport tcp\n" +
        'option timeout 5000000\noption use_wallclock_as_timestamps 1\n',
    );
  });

  for (const [name, start] of [
    ['the lab', labCamera],
    ['a stock gst-rtsp-server', stockCamera],
  ] as const) {
    it(`${name}: frame rate stays above the floor and a black picture is flagged`, async () => {
      const cam = await start();
      cleanups.push(cam.stop);
      const s = supervise(cam.url);
      cleanups.push(s.stop);
      await waitFor(
        () => {
          const h = s.sup.health();
          return h.status === 'online' && (h.fps ?? 0) >= MIN_FPS;
        },
        20_000,
        'camera online with its frame rate',
      );
      // Past the picture warm-up, so the samples are being judged before the other client comes.
      await new Promise((r) => setTimeout(r, settings.pictureWarmupMs));
      const since = s.changes.length;

      // The other client: a plain ffmpeg pull for 4 s, as an NVR or a vendor app makes.
      const other = runWithDeadline(
        'ffmpeg',
        ['-v', 'error', '-rtsp_transport', 'tcp', '-i', cam.url, '-t', '4', '-f', 'null', '-'],
        15_000,
      );
      // Health as the API shows it, every 250 ms from the other client's start until 6 s after it.
      const seen: CameraHealth[] = [];
      const watch = setInterval(() => seen.push(s.sup.health()), 250);
      try {
        const r = await other;
        expect(r.code, r.stderr).toBe(0);
        await new Promise((res) => setTimeout(res, 6000));
      } finally {
        clearInterval(watch);
      }
      const slow = seen.filter((h) => h.status !== 'online' || h.fps === null || h.fps < MIN_FPS);
      expect(slow.map((h) => `${h.status} fps=${h.fps} ${h.faults.join(',')}`)).toEqual([]);
      expect(seen.length).toBeGreaterThan(30);
      expect(raised(s.changes.slice(since), 'low_fps')).toBe(false);

      // Pictures are still sampled and judged: a black picture is flagged.
      await cam.black(true);
      await waitFor(() => raised(s.changes.slice(since), 'black'), 10_000, 'black picture flagged');
      await cam.black(false);
      await waitFor(
        () => s.changes.slice(since).some((c) => c.type === 'fault' && c.kind === 'black' && !c.active),
        10_000,
        'black cleared',
      );
      expect(s.sup.health().faults).not.toContain('low_fps');
    }, 90_000);
  }
});

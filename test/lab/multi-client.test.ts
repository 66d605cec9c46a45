import { afterAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { runWithDeadline } from '../../lab/observe.js';

// A lab camera serves several clients as a real one does (the service, an NVR, a vendor app, the
// lab's own snapshots): one encoder per stream, and nobody's timestamps restart when another
// client comes or goes. 640x360 keeps live encoding cheap; the RTSP paths are the same.

const FPS = 15;
const labs: Lab[] = [];
afterAll(async () => {
  await Promise.all(labs.map((l) => l.stop()));
});

async function lab(mode: 'live' | 'scale'): Promise<Lab> {
  const l = await startLab({ cameras: 1, mode, width: 640, height: 360, fps: FPS });
  labs.push(l);
  return l;
}

interface Packet {
  /** Seconds; ffprobe has none for a client's first packet. */
  pts: number | null;
  key: boolean;
}

/** The packets one RTSP client receives over `seconds` of stream, as ffprobe reads them. */
async function packets(url: string, seconds: number): Promise<Packet[]> {
  const r = await runWithDeadline(
    'ffprobe',
    [
      ...['-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-select_streams', 'v:0'],
      ...['-read_intervals', `%+${seconds}`, '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0'],
    ],
    (seconds + 15) * 1000,
  );
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .toString()
    .split('\n')
    .map((l) => l.split(','))
    .filter(([pts]) => pts !== undefined && pts !== '')
    .map(([pts, flags]) => ({ pts: pts === 'N/A' ? null : Number(pts), key: (flags ?? '').startsWith('K') }));
}

/**
 * Decoder complaints over `seconds` of a client's stream, from its very first packet: errors, and
 * the warnings ffmpeg gives for pictures it had to conceal (a keyframe that arrived split).
 */
async function decodeProblems(url: string, seconds: number): Promise<string[]> {
  const r = await runWithDeadline(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostats', '-v', 'warning', '-rtsp_transport', 'tcp', '-i', url],
      ...['-t', String(seconds), '-f', 'null', '-'],
    ],
    (seconds + 20) * 1000,
  );
  expect(r.timedOut).toBe(false);
  return r.stderr.split('\n').filter((l) => l.trim() !== '');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('several clients of one lab camera', () => {
  for (const mode of ['live', 'scale'] as const) {
    it(`${mode}: a viewer's timestamps run on while others join and leave; joiners start at a keyframe`, async () => {
      const cam = (await lab(mode)).cameras[0]!;
      const first = packets(cam.rtsp.main, 12);
      await sleep(3000);
      // Another client for 4 s (what broke the service's frame timing), then a snapshot, which the
      // lab takes over RTSP like any viewer.
      const second = await packets(cam.rtsp.main, 4);
      const snapshot = await fetch(cam.snapshotUrl);
      expect(snapshot.status).toBe(200);
      const seen = await first;

      expect(seen.length).toBeGreaterThan(12 * FPS * 0.8);
      const times = seen.flatMap((p) => (p.pts === null ? [] : [p.pts]));
      const steps = times.slice(1).map((t, i) => t - times[i]!);
      // Strictly increasing (a keyframe in pieces would repeat a timestamp), one frame apart.
      expect(Math.min(...steps)).toBeGreaterThan(0);
      expect(Math.max(...steps)).toBeLessThan(0.5);
      expect(seen.filter((p) => p.key).length).toBeGreaterThanOrEqual(5);
      // Without a forced keyframe a joiner would wait half a GOP (15 frames) on average.
      expect(second.slice(0, 5).some((p) => p.key)).toBe(true);
    }, 60_000);
  }

  it('live: the first viewer and a later one decode without errors from their first frame', async () => {
    const cam = (await lab('live')).cameras[0]!;
    const first = decodeProblems(cam.rtsp.main, 20);
    await sleep(5000);
    const later = decodeProblems(cam.rtsp.main, 12);
    expect(await later).toEqual([]);
    expect(await first).toEqual([]);
  }, 60_000);
});

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import type { GapRow, SegmentRow } from '../../src/recording/segment-index.js';
import { seedUnit, sql, startTestService, type TestService } from '../support/service.js';
import { waitFor } from './support.js';

const run = promisify(execFile);
const SEGMENT_MS = 2000;
const KILLS = 4;
/** One key for the API and the recorder: processes of one deployment must share it. */
const SECRET_KEY = randomBytes(32).toString('hex');

/** The recording process of the crash test, run as its own process group so SIGKILL takes ffmpeg too. */
class Child {
  proc: ChildProcess | null = null;
  pullStarts: number[] = [];
  constructor(private readonly env: object) {}
  start(): void {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'recorder-child.ts')],
      {
        env: { ...process.env, RECORDER_CHILD: JSON.stringify(this.env) },
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true,
      },
    );
    this.proc = proc;
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const m = JSON.parse(line) as { pullStartedAt?: number };
          if (m.pullStartedAt) this.pullStarts.push(m.pullStartedAt);
        } catch {
          /* log lines */
        }
      }
    });
  }
  async signal(sig: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const closed = new Promise<void>((resolve) => p.once('close', () => resolve()));
    process.kill(-p.pid!, sig);
    await closed;
    this.proc = null;
  }
}

describe('recording survives SIGKILL of the service', () => {
  let svc: TestService;
  let lab: Lab;
  let child: Child;
  let cameraId: string;
  let dataDir: string;
  const kills: { at: number; restartedAt: number }[] = [];
  /** Time some pull ran (first start to the last stop, less each kill → restart). */
  let pulledMs = 0;
  let segments: SegmentRow[];
  let gaps: GapRow[];

  beforeAll(async () => {
    [svc, lab] = await Promise.all([
      startTestService({ ROLES: 'api', SECRET_KEY }),
      startLab({ cameras: 1, width: 320, height: 240, fps: 10 }),
    ]);
    const { site, unit } = await seedUnit(svc, 'Crash');
    const cam = await (
      await svc.admin()
    ).post('/cameras', { siteId: site.id, name: 'Crash cam', rtspUrl: lab.cameras[0]!.rtsp.main });
    cameraId = cam.body.id;
    dataDir = path.join(svc.config.DATA_DIR, 'child');
    child = new Child({
      config: {
        DATA_DIR: dataDir,
        DATABASE_URL: svc.config.DATABASE_URL!,
        DATABASE_SCHEMA: svc.schema,
        SECRET_KEY,
        REDIS_URL: 'redis://127.0.0.1:6379',
        SEGMENT_SECONDS: String(SEGMENT_MS / 1000),
        LOG_LEVEL: 'silent',
      },
      camera: { id: cameraId, siteId: site.id, unitId: unit.id, name: 'Crash cam' },
      url: lab.cameras[0]!.rtsp.main,
    });
    child.start();
    await waitFor('pull started', async () => child.pullStarts.length > 0, 60_000, 100);
    for (let k = 0; k < KILLS; k++) {
      const starts = child.pullStarts.length;
      // Each pull records before it is killed: on a loaded machine its connection can take longer
      // than the wait below, and a pull killed before its first segment closes leaves none, so the
      // hole would span two restarts.
      const pullStart = child.pullStarts.at(-1)!;
      await waitFor(
        'footage of the running pull',
        async () => {
          const [row] = await sql<{ last: Date | null }>(
            svc.schema,
            'SELECT max(ended_at) AS last FROM segments WHERE camera_id = $1',
            [cameraId],
          );
          return row?.last ? row.last.getTime() > pullStart : false;
        },
        60_000,
        100,
      );
      // Kill at a random moment, usually mid-segment.
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 4000));
      const at = Date.now();
      await child.signal('SIGKILL');
      child.start();
      await waitFor('pull restarted', async () => child.pullStarts.length > starts, 60_000, 100);
      kills.push({ at, restartedAt: child.pullStarts.at(-1)! });
    }
    await new Promise((r) => setTimeout(r, 5000));
    const firstStart = child.pullStarts[0]!;
    pulledMs = Date.now() - firstStart - kills.reduce((s, k) => s + (k.restartedAt - k.at), 0);
    await child.signal('SIGTERM');
    segments = await sql<SegmentRow>(
      svc.schema,
      'SELECT * FROM segments WHERE camera_id = $1 ORDER BY started_at',
      [cameraId],
    );
    gaps = await sql<GapRow>(
      svc.schema,
      'SELECT * FROM recording_gaps WHERE camera_id = $1 ORDER BY started_at',
      [cameraId],
    );
  }, 300_000);

  afterAll(async () => {
    await child?.signal('SIGKILL');
    await svc?.stop();
    await lab?.stop();
  });

  it('stores no corrupt object: every segment decodes and matches its hash, the chain holds', async () => {
    // Every pull (each at least 3 s) leaves footage, and most of the pulled time is kept: what a kill
    // loses is at most the segment being written, which the gaps test below accounts for.
    expect(segments.length).toBeGreaterThan(KILLS);
    const recordedMs = segments.reduce((s, x) => s + (x.ended_at.getTime() - x.started_at.getTime()), 0);
    expect(recordedMs).toBeGreaterThan(pulledMs * 0.5);
    let prev: string | null = null;
    for (const s of segments) {
      const file = path.join(dataDir, 'footage', s.object_key);
      expect(
        createHash('sha256')
          .update(await readFile(file))
          .digest('hex'),
      ).toBe(s.sha256);
      expect(s.prev_sha256).toBe(prev);
      prev = s.sha256;
      const r = await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', 'null', '-']);
      expect(r.stderr.trim(), s.object_key).toBe('');
    }
  });

  it('explains every lost span with a gap no longer than the restart time plus one segment', () => {
    let holes = 0;
    for (let i = 1; i < segments.length; i++) {
      const from = segments[i - 1]!.ended_at.getTime();
      const to = segments[i]!.started_at.getTime();
      if (to - from <= 250) continue;
      holes++;
      const cover = gaps.filter(
        (g) => g.started_at.getTime() <= from + 250 && (g.ended_at?.getTime() ?? Infinity) >= to - 250,
      );
      expect(cover.length, `hole at ${new Date(from).toISOString()}`).toBeGreaterThan(0);
      const kill = kills.find((k) => k.at >= from - SEGMENT_MS - 1000 && k.at <= to);
      expect(kill, `a kill explains the hole at ${new Date(from).toISOString()}`).toBeDefined();
      // Restart time (kill → new pull) plus one segment, plus a keyframe interval of slack for the first cut.
      expect(to - from).toBeLessThanOrEqual(kill!.restartedAt - kill!.at + SEGMENT_MS + 2000);
    }
    expect(holes).toBeGreaterThanOrEqual(1);
    expect(holes).toBeLessThanOrEqual(KILLS);
    expect(gaps.every((g) => ['crash', 'interrupted', 'stopped'].includes(g.reason))).toBe(true);
  });
});

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import type { SegmentRow, GapRow } from '../../src/recording/segment-index.js';
import { seedUnit, sql, startTestService, type TestService } from '../support/service.js';
import { TestPull, waitFor } from './support.js';

const run = promisify(execFile);

describe('continuous recording of a lab camera', () => {
  let svc: TestService;
  let lab: Lab;
  let cameraId: string;
  let pull: TestPull;
  let segments: SegmentRow[];
  let gaps: GapRow[];
  let token: string;
  let operatorOther: Awaited<ReturnType<typeof seedUnit>>['operator'];

  beforeAll(async () => {
    [svc, lab] = await Promise.all([
      startTestService({ SEGMENT_SECONDS: '2', ROLES: 'api,worker' }),
      startLab({ cameras: 1, width: 320, height: 240, fps: 10 }),
    ]);
    const { site, operator } = await seedUnit(svc, 'Rec');
    operatorOther = (await seedUnit(svc, 'Other')).operator;
    token = operator.token!;
    const cam = await operator.post('/cameras', {
      siteId: site.id,
      name: 'Rec cam',
      rtspUrl: lab.cameras[0]!.rtsp.main,
    });
    expect(cam.status).toBe(201);
    cameraId = cam.body.id;
    await svc.services.recording.startIngest();
    pull = TestPull.rtsp(
      { id: cameraId, siteId: site.id, unitId: cam.body.unitId, name: 'Rec cam' },
      lab.cameras[0]!.rtsp.main,
      svc.services.recording.output,
    );
    pull.supervise();
    const rec = svc.services.recording;
    // ~20 s of footage, then the camera goes offline for 6 s, then ~14 s more.
    await waitFor('first footage', async () => (await rec.index.last(cameraId)) !== null, 60_000);
    const t0 = Date.now();
    await waitFor('20 s recorded', async () => Date.now() - t0 > 20_000, 30_000, 1000);
    await lab.inject(lab.cameras[0]!.id, 'offline', { durationMs: 6000 });
    await waitFor('pull lost', async () => pull.exits.length > 0, 30_000).catch((err) => {
      throw new Error(
        `${(err as Error).message}; running=${pull.running} faults=${JSON.stringify(lab.faults(lab.cameras[0]!.id))}`,
      );
    });
    const back = Date.now();
    await waitFor('recording again', async () => Date.now() - back > 14_000 && pull.running, 60_000, 1000);
    // Stop a pull that is recording (its footage indexed since its last start), so the test's stop,
    // not a reconnect under load, is what ends the recording.
    await waitFor(
      'footage of the running pull',
      async () => {
        const exits = pull.exits.length;
        const last = await rec.index.last(cameraId);
        return (
          pull.running &&
          last !== null &&
          last.ended_at.getTime() > pull.startedAt &&
          exits === pull.exits.length
        );
      },
      30_000,
    );
    await pull.stop();
    await rec.output.idle();
    await waitFor('spool drained', async () => (await rec.spool.ready(cameraId)).length === 0, 60_000);
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
  }, 240_000);

  afterAll(async () => {
    await pull?.stop();
    await svc?.stop();
    await lab?.stop();
  });

  it('stores valid segments whose hashes and chain verify', async () => {
    expect(segments.length).toBeGreaterThanOrEqual(12);
    const root = path.join(svc.config.DATA_DIR, 'footage');
    let prev: string | null = null;
    for (const [i, s] of segments.entries()) {
      const file = path.join(root, s.object_key);
      const bytes = await readFile(file);
      expect(bytes.length).toBe(Number(s.bytes));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(s.sha256);
      expect(s.prev_sha256).toBe(prev);
      prev = s.sha256;
      expect(s.codec).toBe('h264');
      expect(s.width).toBe(320);
      const dur = s.ended_at.getTime() - s.started_at.getTime();
      // The last segment before the pull stopped (camera lost, or the test's stop) may be cut short.
      const next = segments[i + 1];
      const endsRun = !next || next.started_at.getTime() - s.ended_at.getTime() > 500;
      if (!endsRun) expect(dur).toBeGreaterThan(500);
      expect(dur).toBeLessThan(6000);
    }
    // Spot-check with ffprobe that objects decode as video (full-length ones: a cut-short last
    // segment may hold only a few frames).
    const full = segments.filter((s) => s.ended_at.getTime() - s.started_at.getTime() >= 1500);
    for (const s of [full[0]!, full[Math.floor(full.length / 2)]!, full.at(-1)!]) {
      const { stdout } = await run('ffprobe', [
        '-v',
        'error',
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=nb_read_frames',
        '-of',
        'csv=p=0',
        path.join(root, s.object_key),
      ]);
      expect(Number(stdout.trim())).toBeGreaterThan(5);
    }
  });

  it('is contiguous except where a gap row explains the hole, and the offline span has a reason', () => {
    for (let i = 1; i < segments.length; i++) {
      const hole = [segments[i - 1]!.ended_at.getTime(), segments[i]!.started_at.getTime()] as const;
      if (hole[1] - hole[0] <= 250) continue;
      const covered = gaps.some(
        (g) =>
          g.started_at.getTime() <= hole[0] + 250 && (g.ended_at?.getTime() ?? Infinity) >= hole[1] - 250,
      );
      expect(covered, `hole ${new Date(hole[0]).toISOString()}..${new Date(hole[1]).toISOString()}`).toBe(
        true,
      );
    }
    const offline = gaps.find((g) => g.reason === 'offline' && g.ended_at !== null);
    expect(offline).toBeDefined();
    expect(offline!.detail).toContain('camera lost');
    const span = offline!.ended_at!.getTime() - offline!.started_at.getTime();
    expect(span).toBeGreaterThan(2000);
    expect(span).toBeLessThan(20_000);
    // The final stop leaves an open 'stopped' gap until recording resumes.
    expect(gaps.at(-1)!.reason, JSON.stringify({ exits: pull.exits, gaps })).toBe('stopped');
    expect(gaps.at(-1)!.ended_at).toBeNull();
  });

  it('lists recordings in scope only and serves ranges', async () => {
    const from = segments[0]!.started_at.toISOString();
    const to = segments.at(-1)!.ended_at.toISOString();
    const list = await svc.api.get(`/recordings?cameraId=${cameraId}&from=${from}&to=${to}`);
    expect(list.status).toBe(401);
    const { ApiClient } = await import('../support/service.js');
    const op = new ApiClient(svc.url, token);
    const mine = await op.get(`/recordings?cameraId=${cameraId}&from=${from}&to=${to}`);
    expect(mine.status).toBe(200);
    expect(mine.body.items).toHaveLength(segments.length);
    expect(Object.keys(mine.body.items[0]).sort()).toEqual([
      'bytes',
      'cameraId',
      'endedAt',
      'id',
      'sha256',
      'startedAt',
    ]);
    const theirs = await operatorOther.get(`/recordings?cameraId=${cameraId}`);
    expect(theirs.body.items).toHaveLength(0);
    expect((await operatorOther.get(`/recordings/${segments[0]!.id}/content`)).status).toBe(404);

    const s = segments[1]!;
    const res = await fetch(`${svc.url}/api/v1/recordings/${s.id}/content`, {
      headers: { authorization: `Bearer ${token}`, range: 'bytes=100-199' },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 100-199/${s.bytes}`);
    const part = Buffer.from(await res.arrayBuffer());
    const whole = await readFile(path.join(svc.config.DATA_DIR, 'footage', s.object_key));
    expect(part.equals(whole.subarray(100, 200))).toBe(true);
  });

  it('plays the span over HLS (ffprobe reads the playlist URL) and exports one MP4', async () => {
    const from = segments[2]!.started_at;
    const to = new Date(segments[2]!.started_at.getTime() + 9000);
    const url = `${svc.url}/api/v1/cameras/${cameraId}/playback.m3u8?from=${from.toISOString()}&to=${to.toISOString()}`;
    const { stdout } = await run(
      'ffprobe',
      [
        '-v',
        'error',
        '-headers',
        `Authorization: Bearer ${token}\r\n`,
        '-count_frames',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,nb_read_frames:format=duration',
        '-of',
        'json',
        url,
      ],
      { timeout: 60_000 },
    );
    const probe = JSON.parse(stdout);
    expect(probe.streams[0].codec_name).toBe('h264');
    expect(Number(probe.streams[0].nb_read_frames)).toBeGreaterThan(50);

    const exp = await fetch(
      `${svc.url}/api/v1/cameras/${cameraId}/export.mp4?from=${from.toISOString()}&to=${to.toISOString()}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(exp.status).toBe(200);
    expect(exp.headers.get('content-type')).toBe('video/mp4');
    const file = path.join(svc.config.DATA_DIR, 'export.mp4');
    await import('node:fs/promises').then((fs) =>
      exp.arrayBuffer().then((b) => fs.writeFile(file, Buffer.from(b))),
    );
    const e = JSON.parse(
      (await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', file])).stdout,
    );
    expect(Number(e.format.duration)).toBeGreaterThan(7);
    expect(Number(e.format.duration)).toBeLessThan(14);

    const audit = await sql<{ action: string }>(
      svc.schema,
      `SELECT action FROM audit_log WHERE action LIKE 'recording.%'`,
    );
    const actions = new Set(audit.map((a) => a.action));
    expect([...actions].sort()).toEqual(['recording.exported', 'recording.playback', 'recording.played']);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { freePort } from '../../src/platform/ports.js';
import type { GapRow, SegmentRow } from '../../src/recording/segment-index.js';
import { seedUnit, sql, startTestService, type TestService } from '../support/service.js';
import { TestPull, waitFor } from './support.js';

/** s3rver on a fixed port and directory, so it can be stopped and started again like a real outage. */
class S3Server {
  private server: S3rver | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  async start(): Promise<void> {
    this.server = new S3rver({ port: this.port, address: '127.0.0.1', silent: true, directory: this.dir });
    await this.server.run();
  }
  async stop(): Promise<void> {
    const http = (this.server as unknown as { httpServer?: { closeAllConnections(): void } }).httpServer;
    http?.closeAllConnections();
    await this.server?.close();
    this.server = null;
  }
}

/** A private redis-server (the shared one on 6379 is never restarted). */
class PrivateRedis {
  private child: ChildProcess | null = null;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    const { default: net } = await import('node:net');
    await waitFor(
      'redis up',
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(this.port, '127.0.0.1');
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => resolve(false));
        }),
      10_000,
      100,
    );
  }
  async stop(): Promise<void> {
    const c = this.child;
    if (!c) return;
    this.child = null;
    await new Promise<void>((resolve) => {
      c.once('close', () => resolve());
      c.kill('SIGTERM');
    });
  }
}

describe('recording into S3 through storage and Redis outages', () => {
  let svc: TestService;
  let lab: Lab;
  let s3: S3Server;
  let redis: PrivateRedis;
  let tmp: string;
  let cameraId: string;
  let pull: TestPull;
  let segments: SegmentRow[];
  let gaps: GapRow[];
  let outage: { from: number; to: number };
  let spoolPeak = 0;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ess-s3-'));
    s3 = new S3Server(await freePort(), path.join(tmp, 's3'));
    redis = new PrivateRedis(await freePort(), tmp);
    await Promise.all([s3.start(), redis.start()]);
    [svc, lab] = await Promise.all([
      startTestService({
        SEGMENT_SECONDS: '2',
        ROLES: 'api,worker',
        REDIS_URL: `redis://127.0.0.1:${redis.port}`,
        S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
        S3_ACCESS_KEY: 'S3RVER',
        S3_SECRET_KEY: 'S3RVER',
        S3_BUCKET: 'footage',
      }),
      startLab({ cameras: 1, width: 320, height: 240, fps: 10 }),
    ]);
    const { site, unit } = await seedUnit(svc, 'S3');
    const admin = await svc.admin();
    const cam = await admin.post('/cameras', {
      siteId: site.id,
      name: 'S3 cam',
      rtspUrl: lab.cameras[0]!.rtsp.main,
    });
    cameraId = cam.body.id;
    const rec = svc.services.recording;
    await rec.startIngest();
    pull = TestPull.rtsp(
      { id: cameraId, siteId: site.id, unitId: unit.id, name: 'S3 cam' },
      lab.cameras[0]!.rtsp.main,
      rec.output,
    );
    pull.supervise();
    await waitFor('first footage in S3', async () => (await rec.index.last(cameraId)) !== null, 60_000);
    // Storage down for 15 s, with Redis restarted in the middle of it.
    outage = { from: Date.now(), to: 0 };
    await s3.stop();
    await new Promise((r) => setTimeout(r, 5000));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 3000));
    await redis.start();
    await waitFor(
      '15 s of outage',
      async () => {
        spoolPeak = Math.max(spoolPeak, (await rec.spool.ready(cameraId)).length);
        return Date.now() - outage.from > 15_000;
      },
      30_000,
      500,
    );
    await s3.start();
    outage.to = Date.now();
    await new Promise((r) => setTimeout(r, 6000));
    await pull.stop();
    await rec.output.idle();
    await waitFor('spool drained', async () => (await rec.spool.ready(cameraId)).length === 0, 90_000, 500);
    segments = await sql<SegmentRow>(
      svc.schema,
      'SELECT * FROM segments WHERE camera_id = $1 ORDER BY started_at',
      [cameraId],
    );
    gaps = await sql<GapRow>(svc.schema, 'SELECT * FROM recording_gaps WHERE camera_id = $1', [cameraId]);
  }, 240_000);

  afterAll(async () => {
    await pull?.stop();
    await svc?.stop();
    await lab?.stop();
    await s3?.stop().catch(() => undefined);
    await redis?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('loses no segment while storage is down: the spool grows, then drains in order', async () => {
    expect(spoolPeak).toBeGreaterThanOrEqual(4);
    expect(pull.exits).toEqual(['stopped']);
    for (let i = 1; i < segments.length; i++) {
      expect(segments[i]!.started_at.getTime() - segments[i - 1]!.ended_at.getTime()).toBeLessThanOrEqual(
        250,
      );
      expect(segments[i]!.prev_sha256).toBe(segments[i - 1]!.sha256);
    }
    const during = segments.filter(
      (s) => s.started_at.getTime() >= outage.from && s.ended_at.getTime() <= outage.to,
    );
    expect(during.length).toBeGreaterThanOrEqual(5);
    // Indexed in time order: rows were created in the order of their footage.
    const created = [...segments].sort(
      (a, b) =>
        a.created_at.getTime() - b.created_at.getTime() || a.started_at.getTime() - b.started_at.getTime(),
    );
    expect(created.map((s) => s.id)).toEqual(segments.map((s) => s.id));
    expect(gaps.filter((g) => g.ended_at !== null)).toEqual([]);
  });

  it('stores objects in S3 whose bytes match the recorded hashes', async () => {
    for (const s of [segments[0]!, segments[Math.floor(segments.length / 2)]!, segments.at(-1)!]) {
      const body = await svc.services.store.get(s.object_key);
      const h = createHash('sha256');
      for await (const chunk of body) h.update(chunk as Buffer);
      expect(h.digest('hex')).toBe(s.sha256);
      expect(s.object_key.startsWith(`${s.unit_id}/${s.site_id}/${s.camera_id}/`)).toBe(true);
    }
  });

  it('reports the missing Object Lock in readiness', async () => {
    const r = await fetch(`${svc.url}/readyz`);
    const body = await r.json();
    expect(body.checks.storage).toMatchObject({ ok: true, kind: 's3', objectLock: false });
    expect(body.checks.storage.warning).toContain('Object Lock');
  });
});

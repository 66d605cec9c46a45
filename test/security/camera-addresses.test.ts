import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../../lab/index.js';
import { expectError } from '../api/fixtures.js';
import { waitFor } from '../ingest/helpers.js';
import { seedUnit, sql, startTestService, type ApiClient, type TestService } from '../support/service.js';

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A Redis of this test alone, on a loopback port the camera policy allows (it is not the service's). */
async function privateRedis(): Promise<{ port: number; client: Redis; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => resolve(sock.end() !== null));
      sock.on('error', () => resolve(false));
    });
  await waitFor(accepts, 5000, 'private redis');
  const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  await client.ping();
  return {
    port,
    client,
    stop: async () => {
      client.disconnect();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Command lines of this process's children (ffmpeg, ffprobe: setpriv execs them in place). */
async function childCommandLines(): Promise<string[]> {
  const lines: string[] = [];
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      lines.push((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' '));
    } catch {
      // The process ended while we looked.
    }
  }
  return lines;
}

describe('camera addresses from operators', () => {
  let svc: TestService;
  let operator: ApiClient;
  let siteId: string;
  let redis: Awaited<ReturnType<typeof privateRedis>>;

  beforeAll(async () => {
    redis = await privateRedis();
    svc = await startTestService({ ROLES: 'api', PROBE_TIMEOUT_MS: '2000' });
    const seeded = await seedUnit(svc);
    operator = seeded.operator;
    siteId = seeded.site.id;
  }, 60_000);

  afterAll(async () => {
    await svc?.stop();
    await redis?.stop();
  });

  const register = (rtspUrl: string) => operator.post('/cameras', { siteId, name: 'Cam', rtspUrl });

  it('CR/LF in rtspUrl never reaches a socket: no key appears in a Redis behind the address', async () => {
    const attempts = [
      `rtsp://127.0.0.1:${redis.port}/x\r\nSET probe-key injected EX 120\r\n`,
      `rtsp://127.0.0.1:${redis.port}/x\nSET probe-key injected\n`,
      `rtsp://a%0D%0ASET%20probe-key%20injected%0D%0A:b@127.0.0.1:${redis.port}/x`,
    ];
    for (const url of attempts) {
      const res = await register(url);
      expectError(res, 400, 'validation_failed', 'rtspUrl');
      expect(res.body.error.message).toContain('control characters');
      expect(JSON.stringify(res.body)).not.toContain('probe-key');
    }
    // Percent-encoded in the path it stays encoded: ffprobe sends it as text, Redis sees no command.
    const encoded = await register(`rtsp://127.0.0.1:${redis.port}/x%0D%0ASET%20probe-key%20injected%0D%0A`);
    expect(encoded.status, JSON.stringify(encoded.body)).toBe(422);
    expect(await redis.client.get('probe-key')).toBeNull();
    expect(await redis.client.dbsize()).toBe(0);
  }, 30_000);

  it("refuses the service's own ports, named, before connecting", async () => {
    const own: [string, string][] = [
      [`rtsp://127.0.0.1:${new URL(svc.config.REDIS_URL!).port || 6379}/`, 'Redis'],
      ['rtsp://127.0.0.1:5432/', 'PostgreSQL'],
      ['rtsp://localhost:5432/', 'PostgreSQL'],
      [`rtsp://127.0.0.1:${new URL(svc.url).port}/`, 'HTTP API'],
      [`rtsp://[::ffff:127.0.0.1]:${new URL(svc.url).port}/`, 'HTTP API'],
      ['rtsp://127.0.0.2:5432/', 'PostgreSQL'],
    ];
    for (const [url, label] of own) {
      const t = Date.now();
      const res = await register(url);
      expectError(res, 400, 'validation_failed', 'rtspUrl');
      expect(res.body.error.details[0].message, url).toContain(label);
      expect(Date.now() - t).toBeLessThan(1000);
    }
  });

  it('refuses addresses outside CAMERA_NETWORKS, unspecified hosts and other schemes', async () => {
    const cases: [string, RegExp][] = [
      ['rtsp://8.8.8.8/live', /outside the camera networks/],
      ['rtsp://0.0.0.0:554/live', /unspecified/],
      ['rtsp://[::]:554/live', /unspecified/],
      ['file:///etc/passwd', /rtsp:\/\/ or rtsps:\/\//],
      ['http://127.0.0.1:9/', /rtsp:\/\/ or rtsps:\/\//],
      ['rtsp://127.0.0.1:9/a#frag', /fragment/],
      ['rtsp://127.0.0.1:9/a b', /spaces/],
      ['rtsp://127.0.0.1:9/\u0085', /control characters/],
    ];
    for (const [url, why] of cases) {
      const res = await register(url);
      expectError(res, 400, 'validation_failed', 'rtspUrl');
      expect(res.body.error.details[0].message, url).toMatch(why);
      if (url.includes('/live')) expect(JSON.stringify(res.body)).not.toContain('/live');
    }
  });

  it('checks a stored snapshot address again when it is used (no request reaches a refused port)', async () => {
    let hits = 0;
    const target = http.createServer((_req, res) => {
      hits++;
      res.end();
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const port = (target.address() as AddressInfo).port;
    // As if the port had become one of the service's own since the camera was registered.
    svc.services.networkPolicy.refusePort({ port, label: 'test port' });
    const id = randomUUID();
    await sql(
      svc.schema,
      `INSERT INTO cameras (id, site_id, unit_id, name, source, rtsp_url, snapshot_uri)
       SELECT $1, s.id, s.unit_id, 'Old', 'onvif', $2, $3 FROM sites s WHERE s.id = $4`,
      [id, `rtsp://127.0.0.1:${port}/x`, `http://127.0.0.1:${port}/snapshot.jpg`, siteId],
    );
    const res = await operator.get(`/cameras/${id}/snapshot`);
    expectError(res, 422, 'device_address_refused');
    expect(res.body.error.message).toContain('test port');
    expect(hits).toBe(0);
    target.close();
  });

  it('checks ONVIF hosts the same way', async () => {
    const onvif = (host: string, port?: number) =>
      operator.post('/cameras', {
        siteId,
        name: 'Cam',
        onvif: { host, ...(port ? { port } : {}), username: 'u', password: 'p' },
      });
    expectError(await onvif('127.0.0.1/evil'), 400, 'validation_failed', 'onvif.host');
    expectError(await onvif('cam\r\nHost: x'), 400, 'validation_failed', 'onvif.host');
    expectError(await onvif('127.0.0.1', 5432), 400, 'validation_failed', 'onvif.host');
    expectError(await onvif('8.8.8.8'), 400, 'validation_failed', 'onvif.host');
  });
});

describe('camera credentials and processes', () => {
  let lab: Lab;
  let svc: TestService;
  let operator: ApiClient;
  let siteId: string;

  beforeAll(async () => {
    lab = await startLab({ cameras: 1, width: 320, height: 180 });
    svc = await startTestService({ ROLES: 'api,ingest', INGEST_POLL_MS: '300' });
    const seeded = await seedUnit(svc);
    operator = seeded.operator;
    siteId = seeded.site.id;
  }, 60_000);

  afterAll(async () => {
    await svc?.stop();
    await lab?.stop();
  });

  it('never puts the camera password on a command line (probe, then the supervised pull)', async () => {
    const cam = lab.cameras[0]!;
    const seen: string[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        seen.push(...(await childCommandLines()));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const res = await operator.post('/cameras', { siteId, name: 'Lab', rtspUrl: cam.rtsp.main });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await waitFor(
      // Frames arriving through the pull (the small lab picture makes it degraded, not online).
      async () => (await operator.get(`/cameras/${res.body.id}`)).body.health.lastFrameAt,
      20_000,
      'frames from the supervised pull',
    );
    polling = false;
    await poll;
    const ffmpegs = seen.filter((l) => /\bff(mpeg|probe)\b/.test(l));
    expect(ffmpegs.some((l) => l.includes('ffprobe'))).toBe(true);
    expect(ffmpegs.some((l) => l.includes('ffmpeg') && l.includes('framecrc'))).toBe(true);
    for (const line of ffmpegs) {
      expect(line).not.toContain(cam.password);
      expect(line).not.toContain('rtsp://');
      expect(line).toContain('-protocol_whitelist pipe,tcp,tls');
    }
  }, 60_000);
});

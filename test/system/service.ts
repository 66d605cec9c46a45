import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client as MinioClient } from 'minio';
import pg from 'pg';
import S3rver from 's3rver';
import { afterEach } from 'vitest';
import { freePort } from '../../src/platform/ports.js';
import { ROOT, withBuild } from './build.js';
import { GiveUp, poll, sleep } from './poll.js';

export const ADMIN_PASSWORD = 'system-admin-pass-1';
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = 'redis://127.0.0.1:6379';
const LOG_LINES = 4000;

export function tmpDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** How a process shows it has started: its /readyz, a log message, or staying up. */
export type Readiness = { http: string } | { logMessage: string } | { aliveMs: number };

/**
 * One service process started as the README's start command does after its build:
 * `node dist/src/main.js` in the repository, configured only by environment. It runs in its own
 * process group, so a SIGKILL takes its ffmpeg children with it, as when a host or container dies.
 */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private readonly lines: string[] = [];
  private exited: Promise<void> = Promise.resolve();
  private partial = { stdout: '', stderr: '' };

  constructor(
    readonly name: string,
    readonly env: Record<string, string>,
    readonly readiness: Readiness,
  ) {}

  get dataDir(): string {
    return this.env.DATA_DIR!;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the built service and waits until it is ready (rebuilding dist/ first when stale). */
  async start(timeoutMs = 120_000): Promise<void> {
    await withBuild(async () => {
      this.spawn();
      await this.waitReady(timeoutMs);
    });
  }

  private spawn(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.note(
      `--- start: ${Object.entries(this.env)
        .map(([k, v]) => `${k}=${/SECRET|PASSWORD/.test(k) ? '…' : v}`)
        .join(' ')}`,
    );
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child = child;
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]!.setEncoding('utf8');
      child[stream]!.on('data', (d: string) => {
        const text = this.partial[stream] + d;
        const parts = text.split('\n');
        this.partial[stream] = parts.pop() ?? '';
        for (const l of parts) this.note(stream === 'stderr' ? `[err] ${l}` : l);
      });
    }
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.note(`--- exited: code ${code} signal ${signal}`);
        resolve();
      }),
    );
  }

  private note(line: string): void {
    this.lines.push(line);
    if (this.lines.length > LOG_LINES) this.lines.splice(0, this.lines.length - LOG_LINES);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const r = this.readiness;
    const alive = () => {
      if (!this.running) throw new GiveUp(`${this.name} exited before it was ready`);
    };
    if ('http' in r) {
      // PGlite's first start (initdb in WASM) is slow on a busy machine.
      await poll(
        `${this.name} /readyz`,
        async () => {
          alive();
          const res = await fetch(`${r.http}/readyz`).catch(() => null);
          return res?.status === 200 || null;
        },
        timeoutMs,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${this.logs(60)}`);
      });
    } else if ('logMessage' in r) {
      await poll(
        `${this.name} to log '${r.logMessage}'`,
        () => {
          alive();
          return this.lines.some((l) => l.includes(`"msg":"${r.logMessage}"`));
        },
        timeoutMs,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${this.logs(60)}`);
      });
    } else {
      await sleep(r.aliveMs);
      alive();
    }
  }

  /** SIGKILL to the whole process group: no shutdown code runs. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.running) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
    await this.exited;
    // Whatever the group left behind (a grandchild that ignored the group) goes too.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone.
    }
    this.child = null;
  }

  /** SIGTERM (clean shutdown), then SIGKILL to what is left of the group. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (this.running) {
      child.kill('SIGTERM');
      await Promise.race([this.exited, sleep(20_000)]);
    }
    await this.kill();
  }

  logs(tail = 200): string {
    return this.lines
      .slice(-tail)
      .map((l) => `[${this.name}] ${l}`)
      .join('\n');
  }
}

/** A running deployment of the service, in either shape, as its users reach it. */
export interface Deployment {
  readonly shape: 'embedded' | 'production';
  readonly label: string;
  /** Base URL of the API process (http://127.0.0.1:port). */
  readonly url: string;
  readonly processes: ServiceProcess[];
  /** Directories where the footage store keeps each stored object as one file. */
  readonly footageRoots: string[];
  stop(): Promise<void>;
  logs(tail?: number): string;
}

/** Settings every journey uses: small segments and a picture floor the small lab pictures meet. */
export const JOURNEY_ENV: Record<string, string> = {
  ADMIN_PASSWORD,
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  SEGMENT_SECONDS: '3',
  FLOOR_MIN_HEIGHT: '240',
  FLOOR_MIN_FPS: '10',
  FLOOR_MIN_KBPS: '64',
  // A camera back from an outage is pulled again within 2 s (the default backs off to 10 s).
  RECONNECT_MAX_MS: '2000',
  INGEST_POLL_MS: '1000',
};

/** A private schema name, used only to keep concurrent test deployments' Redis keys apart. */
export function privateSchema(prefix = 'sys'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export interface EmbeddedDeployment extends Deployment {
  readonly process: ServiceProcess;
  readonly dataDir: string;
  /** SIGKILL mid-flight, then `npm start` again on the same DATA_DIR and port. */
  killAndRestart(downMs: number): Promise<{ killedAt: number; restartedAt: number }>;
}

/**
 * The service on embedded defaults (PGlite and local footage in DATA_DIR): one process with all
 * roles, a fresh DATA_DIR, configured by `env` only.
 */
export async function startEmbedded(
  opts: { label?: string; env?: Record<string, string> } = {},
): Promise<EmbeddedDeployment> {
  const label = opts.label ?? 'embedded';
  const dataDir = await tmpDir('ess-sys-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = new ServiceProcess(
    label,
    { ...JOURNEY_ENV, ...opts.env, DATA_DIR: dataDir, PORT: String(port) },
    { http: url },
  );
  const stop = async () => {
    await proc.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await proc.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    shape: 'embedded',
    label,
    url,
    process: proc,
    processes: [proc],
    dataDir,
    footageRoots: [path.join(dataDir, 'footage')],
    stop,
    logs: (tail) => proc.logs(tail),
    async killAndRestart(downMs) {
      await proc.kill();
      const killedAt = Date.now();
      await sleep(downMs);
      const restartedAt = Date.now();
      await proc.start();
      return { killedAt, restartedAt };
    },
  };
}

/** s3rver on loopback with one bucket, created before the service starts. */
export async function startS3(
  bucket: string,
): Promise<{ endpoint: string; dir: string; stop(): Promise<void> }> {
  const dir = await tmpDir('ess-sys-s3-');
  const port = await freePort();
  const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new MinioClient({
    endPoint: '127.0.0.1',
    port,
    useSSL: false,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    pathStyle: true,
  });
  await client.makeBucket(bucket, 'us-east-1');
  return {
    endpoint,
    dir,
    async stop() {
      const http = (server as unknown as { httpServer?: { closeAllConnections(): void } }).httpServer;
      http?.closeAllConnections();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * The production shape: three processes (ROLES=api, ROLES=ingest, ROLES=worker), each with its own
 * DATA_DIR, on PostgreSQL (a private schema, dropped afterwards), Redis and S3 (s3rver).
 */
export async function startProduction(opts: { env?: Record<string, string> } = {}): Promise<Deployment> {
  const schema = privateSchema('sysprod');
  const bucket = 'footage';
  const s3 = await startS3(bucket);
  const dirs = await Promise.all(['api', 'ingest', 'worker'].map((r) => tmpDir(`ess-sys-${r}-`)));
  const [apiPort, mediaPort] = await Promise.all([freePort(), freePort()]);
  const url = `http://127.0.0.1:${apiPort}`;
  const shared: Record<string, string> = {
    ...JOURNEY_ENV,
    ...opts.env,
    DATABASE_URL: POSTGRES_URL,
    DATABASE_SCHEMA: schema,
    REDIS_URL,
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: 'S3RVER',
    S3_SECRET_KEY: 'S3RVER',
    S3_BUCKET: bucket,
    // One key for the deployment: each process has its own DATA_DIR, where the key would be generated.
    SECRET_KEY: randomBytes(32).toString('hex'),
  };
  const api = new ServiceProcess(
    'api',
    {
      ...shared,
      ROLES: 'api',
      DATA_DIR: dirs[0]!,
      PORT: String(apiPort),
      LIVE_MEDIA_URL: `http://127.0.0.1:${mediaPort}`,
    },
    { http: url },
  );
  const ingest = new ServiceProcess(
    'ingest',
    { ...shared, ROLES: 'ingest', DATA_DIR: dirs[1]!, LIVE_HTTP_PORT: String(mediaPort) },
    { logMessage: 'ingest started' },
  );
  const worker = new ServiceProcess(
    'worker',
    { ...shared, ROLES: 'worker', DATA_DIR: dirs[2]! },
    { aliveMs: 3000 },
  );
  const processes = [api, ingest, worker];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await s3.stop();
    await dropSchema(schema).catch(() => undefined);
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  };
  try {
    // The api process first (it applies the migrations), then the other two side by side.
    await api.start();
    await Promise.all([ingest.start(), worker.start()]);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    shape: 'production',
    label: 'production',
    url,
    processes,
    footageRoots: [s3.dir],
    stop,
    logs: (tail) => processes.map((p) => p.logs(tail)).join('\n'),
  };
}

/** Prints the deployments' logs after a failed test. */
export function printLogsOnFailure(deployments: () => (Deployment | undefined)[], tail = 250): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const d of deployments()) if (d) console.error(`===== logs of ${d.label} =====\n${d.logs(tail)}`);
  });
}

import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { freePort } from './ports.js';
import { ProcessSupervisor } from './processes.js';

export { Redis };

/** Where Redis is, and the private redis-server this process started if it had to. */
export interface RedisEndpoint {
  url: string;
  close(): Promise<void>;
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** A connection for BullMQ workers and blocking commands (BullMQ requires maxRetriesPerRequest null). */
export function connectRedis(url: string, opts: { forWorker?: boolean } = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: opts.forWorker ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}

function canConnect(port: number, host: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * REDIS_URL if set; else a Redis already listening on 127.0.0.1:6379; else a private redis-server
 * from PATH keeping its data in DATA_DIR; else a clear error.
 */
export async function resolveRedis(
  opts: { redisUrl?: string; dataDir: string; serverPath: string },
  log: Logger,
): Promise<RedisEndpoint> {
  if (opts.redisUrl) return { url: opts.redisUrl, close: async () => undefined };
  if (await canConnect(6379, '127.0.0.1')) return { url: DEFAULT_URL, close: async () => undefined };
  return startRedisServer(opts, log);
}

/** A private redis-server on a free port, keeping its data in DATA_DIR; closed with the endpoint. */
export async function startRedisServer(
  opts: { dataDir: string; serverPath: string },
  log: Logger,
): Promise<RedisEndpoint> {
  const dir = path.join(opts.dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  // Its own supervisor: the server must outlive every child of the service, which close in between.
  const processes = new ProcessSupervisor(log);
  const server = processes.spawn('redis-server', opts.serverPath, [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    path.resolve(dir),
    '--appendonly',
    'yes',
    '--maxmemory-policy',
    'noeviction',
  ]);
  server.stdout.resume();
  server.stderr.resume();
  for (let i = 0; i < 50 && server.running && !(await canConnect(port, '127.0.0.1')); i++)
    await new Promise((r) => setTimeout(r, 100));
  // A missing binary shows as an early exit (setpriv execs it in place), not as a spawn error.
  if (!server.running)
    throw new Error(
      `no Redis: REDIS_URL is unset, nothing listens on 127.0.0.1:6379, and '${opts.serverPath}' could not be started. ` +
        'Install Redis (Debian: apt-get install redis-server) or set REDIS_URL.',
    );
  log.info({ port, dir }, 'started a private redis-server');
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      await server.stop();
    },
  };
}

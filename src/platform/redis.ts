import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

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

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
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

  const dir = path.join(opts.dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((resolve, reject) => {
      const c = spawn(
        opts.serverPath,
        [
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
        ],
        { stdio: 'ignore' },
      );
      c.once('error', reject);
      c.once('spawn', () => resolve(c));
    });
  } catch {
    throw new Error(
      `no Redis: REDIS_URL is unset, nothing listens on 127.0.0.1:6379, and '${opts.serverPath}' could not be started. ` +
        'Install Redis (Debian: apt-get install redis-server) or set REDIS_URL.',
    );
  }
  for (let i = 0; i < 50 && !(await canConnect(port, '127.0.0.1')); i++)
    await new Promise((r) => setTimeout(r, 100));
  log.info({ port, dir }, 'started a private redis-server');
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

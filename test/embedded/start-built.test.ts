import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/platform/ports.js';
import { ensureBuilt } from '../system/build.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The README's start command (`npm start` = build, then `node dist/src/main.js`) on embedded
 * defaults: no DATABASE_URL, REDIS_URL, S3_* or ADMIN_PASSWORD; a fresh DATA_DIR.
 */
describe('the built service on embedded defaults', () => {
  let child: ChildProcess;
  let dataDir: string;
  let url: string;
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    // `npm run build`, shared with the system tests: one build at a time, none when dist/ is current.
    await ensureBuilt();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ess-start-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: root,
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME ?? dataDir,
        DATA_DIR: dataDir,
        PORT: String(port),
        // Only keeps this run's Redis keys apart from anyone else's on the shared Redis.
        DATABASE_SCHEMA: `s_${randomBytes(6).toString('hex')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('becomes ready: database, Redis and storage', { timeout: 120_000 }, async () => {
    // PGlite's first start (initdb in WASM) takes a few seconds alone, much longer on a busy machine.
    const deadline = Date.now() + 90_000;
    let last: { status: number; body: any } | null = null;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const res = await fetch(`${url}/readyz`);
        last = { status: res.status, body: await res.json() };
        if (res.status === 200) break;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(last?.status, `exit ${child.exitCode}\n${stderr}\n${stdout}`).toBe(200);
    expect(last!.body.ready).toBe(true);
    expect(last!.body.checks.database).toMatchObject({ ok: true, kind: 'embedded' });
    expect(last!.body.checks.storage).toMatchObject({ ok: true, kind: 'local' });
    expect(last!.body.checks.redis.ok).toBe(true);
  });

  it('printed a generated admin password once, which logs in', async () => {
    const printed = [...stdout.matchAll(/Bootstrap user 'admin' created with password: (\S+)/g)];
    expect(printed).toHaveLength(1);
    const password = printed[0]![1]!;
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(res.status).toBe(200);
    const token = ((await res.json()) as { token: string }).token;
    const units = await fetch(`${url}/api/v1/units`, { headers: { authorization: `Bearer ${token}` } });
    expect(units.status).toBe(200);
    // The password went to the terminal once, never into a structured log line.
    const logLines = stdout.split('\n').filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(password);
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

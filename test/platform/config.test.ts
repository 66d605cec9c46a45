import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from '../../config/schema.js';

/** What loadConfig refuses, as the list of problems it reports. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('gives every variable a default, as API.md says', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 8080,
      DATA_DIR: './data',
      FFMPEG_PATH: 'ffmpeg',
      ROLES: ['api', 'ingest', 'worker'],
      BODY_LIMIT_BYTES: 1_000_000,
      BATCH_RETENTION_DAYS: 730,
    });
    for (const unset of ['DATABASE_URL', 'REDIS_URL', 'S3_ENDPOINT', 'ADMIN_PASSWORD', 'SECRET_KEY'] as const)
      expect(c[unset]).toBeUndefined();
  });

  it('reads and converts values', () => {
    const c = loadConfig({
      PORT: '9000',
      DATABASE_URL: 'postgres://u:p@db:5432/ess',
      REDIS_URL: 'redis://redis:6379/0',
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY: 'ak',
      S3_SECRET_KEY: 'sk',
      S3_BUCKET: 'footage',
      ROLES: 'api, worker',
      TOKEN_TTL_HOURS: '1.5',
      SECRET_KEY: 'ab'.repeat(32),
    });
    expect(c).toMatchObject({
      PORT: 9000,
      ROLES: ['api', 'worker'],
      TOKEN_TTL_HOURS: 1.5,
      S3_BUCKET: 'footage',
    });
  });

  it('treats empty values as unset', () => {
    const c = loadConfig({ PORT: '', DATABASE_URL: '  ', ADMIN_PASSWORD: '', LOG_LEVEL: '' });
    expect(c).toMatchObject({ PORT: 8080, LOG_LEVEL: 'info' });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.ADMIN_PASSWORD).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://db/ess'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_SCHEMA', 'Robert; DROP'],
    ['REDIS_URL', 'http://redis:6379'],
    ['S3_BUCKET', 'Bad_Bucket'],
    ['ADMIN_PASSWORD', 'short'],
    ['SECRET_KEY', 'abcdef'],
    ['LOG_LEVEL', 'verbose'],
    ['ROLES', 'api,web'],
    ['TOKEN_TTL_HOURS', '0'],
    ['BODY_LIMIT_BYTES', '10'],
    ['LOGIN_MAX_FAILURES', '0'],
    ['RETENTION_DAYS', 'forever'],
    ['BATCH_RETENTION_DAYS', '365'],
    ['SEGMENT_SECONDS', '1'],
  ])('%s=%j stops with a message naming the variable', (name, value) => {
    const found = problems({ [name]: value });
    expect(found[0]).toMatch(new RegExp(`^${name}: .+`));
  });

  it('requires the S3 variables together', () => {
    const found = problems({ S3_ENDPOINT: 'http://minio:9000', S3_BUCKET: 'footage' });
    expect(found.join('\n')).toMatch(/S3_ENDPOINT: .*S3_ACCESS_KEY.*S3_SECRET_KEY.*S3_BUCKET/);
  });

  it('reports every bad variable at once, in one message', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', REDIS_URL: 'ftp://r' });
      expect.unreachable();
    } catch (err) {
      const message = (err as Error).message;
      for (const v of ['PORT', 'LOG_LEVEL', 'REDIS_URL']) expect(message).toContain(`  - ${v}: `);
    }
  });

  it('knows only upper-case variable names (the README table is generated from these)', () => {
    for (const key of Object.keys(configSchema.shape)) expect(key).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });
});

function run(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

describe('the process with a bad configuration', () => {
  it('exits with status 2 and names the variable on stderr, before opening anything', async () => {
    const r = await run({ PORT: 'http', DATA_DIR: '/nonexistent/never-created', LOG_LEVEL: 'loud' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid configuration');
    expect(r.stderr).toMatch(/PORT: /);
    expect(r.stderr).toMatch(/LOG_LEVEL: /);
    expect(r.stdout).toBe('');
  });
});

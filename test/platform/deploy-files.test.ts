import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../config/schema.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFile(`${root}/${file}`, 'utf8');

/** The `environment:` block of one compose service, as written (values unexpanded). */
function serviceEnvironment(compose: string, service: string): Record<string, string> {
  const lines = compose.split('\n');
  const start = lines.findIndex((l) => l === `  ${service}:`);
  expect(start, `service ${service}`).toBeGreaterThanOrEqual(0);
  const envAt = lines.findIndex((l, i) => i > start && l === '    environment:');
  const env: Record<string, string> = {};
  for (const line of lines.slice(envAt + 1)) {
    if (!line.startsWith('      ')) break;
    const m = /^ {6}([A-Z0-9_]+): ?(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/** Compose interpolation with nothing set in the shell: defaults, and a value for required ones. */
const interpolate = (v: string) =>
  v
    .replace(/\$\{\w+:-([^}]*)\}/g, '$1')
    .replace(/\$\{\w+:\?[^}]*\}/g, 'a-long-admin-password')
    .replace(/\$\$/g, '$');

/** Docker cannot run here, so the deployment files are checked against the config schema instead. */
describe('docker-compose.yml and Dockerfile', () => {
  it('wires the service only with variables the config schema knows, and the result loads', async () => {
    const compose = await read('docker-compose.yml');
    const raw = serviceEnvironment(compose, 'app');
    const known = new Set(Object.keys(configSchema.shape));
    for (const name of Object.keys(raw).filter((n) => n !== 'TZ')) expect(known, name).toContain(name);
    const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(v)]));
    const config = loadConfig(env);
    expect(config.DATABASE_URL).toMatch(/^postgres:\/\/ess:.+@postgres:5432\/ess$/);
    expect(config.REDIS_URL).toBe('redis://redis:6379');
    expect(config).toMatchObject({
      S3_ENDPOINT: 'http://minio:9000',
      S3_BUCKET: 'footage',
      DATA_DIR: '/data',
    });
    expect(config.SECRET_KEY).toBeUndefined();
    // The admin password must come from the operator, never a default in the file.
    expect(raw.ADMIN_PASSWORD).toMatch(/^\$\{ADMIN_PASSWORD:\?/);
  });

  it('runs PostgreSQL, Redis without eviction and with persistence, and MinIO with a bucket', async () => {
    const compose = await read('docker-compose.yml');
    for (const s of ['app', 'postgres', 'redis', 'minio', 'minio-bucket'])
      expect(compose).toContain(`\n  ${s}:\n`);
    expect(compose).toMatch(/--maxmemory-policy', 'noeviction'/);
    expect(compose).toMatch(/--appendonly', 'yes'/);
    expect(compose).toMatch(/mc mb --ignore-existing --with-lock "store\/\$\$S3_BUCKET"/);
    // The database password is the same on both ends.
    const pg = serviceEnvironment(compose, 'postgres');
    expect(serviceEnvironment(compose, 'app').DATABASE_URL).toContain(pg.POSTGRES_PASSWORD);
  });

  it('builds from node:20 with npm ci, installs ffmpeg, and starts like npm start', async () => {
    const dockerfile = await read('Dockerfile');
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    expect(dockerfile).toMatch(/^FROM node:20[-\w]* AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\bffmpeg\b/);
    const cmd = /^CMD \["node", "([^"]+)"\]$/m.exec(dockerfile)?.[1];
    expect(`node ${cmd}`).toBe(pkg.scripts.start);
    const ignore = await read('.dockerignore');
    for (const entry of ['node_modules', 'dist', 'data', '.git']) expect(ignore.split('\n')).toContain(entry);
  });
});

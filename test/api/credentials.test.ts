import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/schema.js';
import { startService, type RunningService } from '../../src/app.js';
import { createLogger } from '../../src/platform/logger.js';
import { SecretBox } from '../../src/platform/secret-box.js';
import { REGISTRY_ENV } from './fixtures.js';
import {
  ApiClient,
  dropSchema,
  seedUnit,
  sql,
  TEST_DATABASE_URL,
  type TestService,
} from '../support/service.js';

const CAMERA_USER = 'cam-viewer-7f3a';
const CAMERA_PASSWORD = 'Cam!Pass#9d2e';
const USER_PASSWORD = 'operator-pass';
const WRONG_PASSWORD = 'Wrong!Guess#41c';

/**
 * Credentials never reach a log line, at the most verbose level, and camera credentials are sealed
 * at rest. The service runs with its own logger writing into memory.
 */
describe('credentials', () => {
  const lines: string[] = [];
  let running: RunningService;
  let svc: TestService;
  let dataDir: string;
  const schema = `t_${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ess-cred-'));
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      REDIS_URL: 'redis://127.0.0.1:6379',
      ADMIN_PASSWORD: 'admin-password-1',
      LOG_LEVEL: 'trace',
      ...REGISTRY_ENV,
    });
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    running = await startService(config, { log: createLogger('trace', sink) });
    const api = new ApiClient(running.url!);
    svc = {
      ...running,
      url: running.url!,
      config,
      schema,
      api,
      admin: () => api.login('admin', 'admin-password-1'),
      stop: async () => undefined,
    };
  });
  afterAll(async () => {
    await running?.close();
    await dropSchema(schema);
    await rm(dataDir, { recursive: true, force: true });
  });

  let cameraId: string;
  let tokens: string[] = [];

  it('drives camera creation and logins (good and bad) with trace logging on', async () => {
    const { site, operator, operatorName } = await seedUnit(svc, 'Cred');
    tokens = [operator.token!];
    const cam = await operator.post('/cameras', {
      siteId: site.id,
      name: 'Gate',
      rtspUrl: `rtsp://${CAMERA_USER}:${encodeURIComponent(CAMERA_PASSWORD)}@192.0.2.44:554/ch1`,
    });
    expect(cam.status).toBe(201);
    cameraId = cam.body.id;
    const again = await svc.api.login(operatorName, USER_PASSWORD);
    tokens.push(again.token!);
    const wrong = await svc.api.post('/auth/login', { username: operatorName, password: WRONG_PASSWORD });
    expect(wrong.status).toBe(401);
    expect((await again.get(`/cameras/${cameraId}`)).status).toBe(200);
    expect((await new ApiClient(svc.url, `${tokens[0]}x`).get('/units')).status).toBe(401);
    // A failing request body with the password in it must not be echoed into the log either.
    await operator.post('/cameras', {
      siteId: site.id,
      name: 'Bad\u0000',
      rtspUrl: `rtsp://u:${CAMERA_PASSWORD}@h/x`,
    });
  });

  it('no log line holds a password, a token or the camera credentials', () => {
    const log = lines.join('');
    if (process.env.SHOW_LOG) process.stderr.write(log);
    expect(lines.length).toBeGreaterThan(0);
    expect(log).toContain('API listening');
    for (const secret of [
      CAMERA_PASSWORD,
      encodeURIComponent(CAMERA_PASSWORD),
      CAMERA_USER,
      USER_PASSWORD,
      WRONG_PASSWORD,
      'admin-password-1',
      ...tokens,
    ]) {
      expect(log).not.toContain(secret);
    }
  });

  it('the camera row holds only the sealed credentials; the API never returns them', async () => {
    const [row] = await sql<Record<string, unknown>>(schema, 'SELECT * FROM cameras WHERE id = $1', [
      cameraId,
    ]);
    const dump = JSON.stringify(row);
    expect(dump).not.toContain(CAMERA_PASSWORD);
    expect(dump).not.toContain(encodeURIComponent(CAMERA_PASSWORD));
    expect(dump).not.toContain(CAMERA_USER);
    expect(row!.rtsp_url).toBe('rtsp://192.0.2.44:554/ch1');
    expect(row!.credentials_sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);

    // AES-256-GCM under the key generated once into DATA_DIR (owner-only), and it opens to the credentials.
    const keyFile = path.join(dataDir, 'secret.key');
    expect((await stat(keyFile)).mode & 0o077).toBe(0);
    const box = new SecretBox(Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'hex'));
    expect(JSON.parse(box.open(row!.credentials_sealed as string))).toEqual({
      username: CAMERA_USER,
      password: CAMERA_PASSWORD,
    });

    const audit = await sql(schema, 'SELECT * FROM audit_log');
    expect(JSON.stringify(audit)).not.toContain(CAMERA_PASSWORD);
    const users = await sql(schema, 'SELECT * FROM users');
    expect(JSON.stringify(users)).not.toContain(USER_PASSWORD);
    const authTokens = await sql(schema, 'SELECT * FROM auth_tokens');
    for (const t of tokens) expect(JSON.stringify(authTokens)).not.toContain(t);
  });

  it('a sealed secret does not open under another key or after tampering', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('secret');
    const other = new SecretBox(randomBytes(32));
    expect(() => other.open(sealed)).toThrow();
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 1;
    expect(() => box.open([parts[0], parts[1], parts[2], data.toString('base64url')].join('.'))).toThrow();
    expect(box.open(sealed)).toBe('secret');
    expect(box.seal('secret')).not.toBe(sealed);
  });
});

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/platform/ports.js';
import { LocalFootageStore } from '../../src/recording/footage-store.js';
import { S3FootageStore } from '../../src/recording/s3-footage-store.js';

/**
 * The stores' write check runs from readiness, the admin's health page and start-up, often at once:
 * overlapping checks must neither fail each other nor leave their probes behind.
 */
describe('footage store write checks that overlap', () => {
  let dir: string;
  let s3: S3rver;
  let port: number;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ess-store-check-'));
    port = await freePort();
    s3 = new S3rver({ port, address: '127.0.0.1', silent: true, directory: path.join(dir, 's3') });
    await s3.run();
  });
  afterAll(async () => {
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('local disk: twenty at once all pass and leave no probe file', async () => {
    const root = path.join(dir, 'footage');
    const store = new LocalFootageStore(root);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.check()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await readdir(root)).toEqual([]);
  });

  it('S3: twenty at once all pass and leave no probe object', async () => {
    const store = new S3FootageStore({
      endpoint: `http://127.0.0.1:${port}`,
      accessKey: 'S3RVER',
      secretKey: 'S3RVER',
      bucket: 'footage-check',
      region: 'us-east-1',
    });
    await store.check();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => store.check()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await readdir(path.join(dir, 's3', 'footage-check', '.probe')).catch(() => [])).toEqual([]);
  });
});

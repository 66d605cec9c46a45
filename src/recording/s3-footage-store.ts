import { Client } from 'minio';
import type { Readable } from 'node:stream';
import { newId } from '../platform/ids.js';
import { assertSafeKey, type ByteRange, type FootageStore } from './footage-store.js';

export interface S3Settings {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

const notFound = (err: unknown) => {
  const code = (err as { code?: string }).code;
  return code === 'NotFound' || code === 'NoSuchKey' || code === 'NotFoundError';
};

/**
 * Footage in S3-compatible object storage (MinIO, AWS S3, Ceph) through the minio client. The bucket
 * is created when missing; where it has Object Lock, each object gets a GOVERNANCE retention date.
 */
export class S3FootageStore implements FootageStore {
  readonly kind = 's3' as const;
  private readonly client: Client;
  private objectLock: boolean | null = null;
  private bucketReady = false;

  constructor(private readonly s: S3Settings) {
    const url = new URL(s.endpoint);
    this.client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      useSSL: url.protocol === 'https:',
      accessKey: s.accessKey,
      secretKey: s.secretKey,
      region: s.region,
      pathStyle: true,
    });
  }

  get bucket(): string {
    return this.s.bucket;
  }

  private async ensureBucket(): Promise<void> {
    if (this.bucketReady) return;
    if (!(await this.client.bucketExists(this.s.bucket))) {
      try {
        await this.client.makeBucket(this.s.bucket, this.s.region, { ObjectLocking: true });
      } catch (err) {
        // Another process created it first.
        if (!(await this.client.bucketExists(this.s.bucket))) throw err;
      }
    }
    this.bucketReady = true;
  }

  async check(): Promise<{ objectLock: boolean }> {
    await this.ensureBucket();
    if (this.objectLock === null) {
      try {
        const info: unknown = await this.client.getObjectLockConfig(this.s.bucket);
        this.objectLock = (info as { objectLockEnabled?: string }).objectLockEnabled === 'Enabled';
      } catch {
        this.objectLock = false;
      }
    }
    // A round trip that writes, so a read-only or full store is not reported ready. One key per
    // check: overlapping checks on one key deleted each other's object mid-write.
    const probe = `.probe/${process.pid}-${newId()}`;
    await this.client.putObject(this.s.bucket, probe, Buffer.from('ok'));
    await this.client.removeObject(this.s.bucket, probe);
    return { objectLock: this.objectLock };
  }

  async put(
    key: string,
    filePath: string,
    opts: { retainUntil?: Date; sha256?: string } = {},
  ): Promise<void> {
    assertSafeKey(key);
    await this.ensureBucket();
    if (opts.sha256) {
      const existing = await this.statMeta(key);
      if (existing?.sha256 === opts.sha256) return;
    }
    await this.client.fPutObject(this.s.bucket, key, filePath, {
      'Content-Type': 'video/mp4',
      ...(opts.sha256 ? { 'x-amz-meta-sha256': opts.sha256 } : {}),
    });
    if (opts.retainUntil && this.objectLock) {
      await this.client.putObjectRetention(this.s.bucket, key, {
        mode: 'GOVERNANCE',
        retainUntilDate: opts.retainUntil.toISOString(),
      } as never);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertSafeKey(key);
    if (!range) return this.client.getObject(this.s.bucket, key);
    const length = range.end !== undefined ? range.end - range.start + 1 : undefined;
    return this.client.getPartialObject(this.s.bucket, key, range.start, length);
  }

  private async statMeta(key: string): Promise<{ bytes: number; sha256: string | null } | null> {
    try {
      const st = await this.client.statObject(this.s.bucket, key);
      const meta = st.metaData as Record<string, string | undefined>;
      return { bytes: st.size, sha256: meta.sha256 ?? meta['x-amz-meta-sha256'] ?? null };
    } catch (err) {
      if (notFound(err)) return null;
      throw err;
    }
  }

  async stat(key: string): Promise<{ bytes: number } | null> {
    assertSafeKey(key);
    const st = await this.statMeta(key);
    return st ? { bytes: st.bytes } : null;
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    await this.client.removeObject(this.s.bucket, key, this.objectLock ? { governanceBypass: true } : {});
  }

  async readUrl(key: string, ttlSeconds = 3600): Promise<string> {
    assertSafeKey(key);
    return this.client.presignedGetObject(this.s.bucket, key, ttlSeconds);
  }
}

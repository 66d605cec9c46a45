import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { newId } from '../platform/ids.js';

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP Range. */
  end?: number;
}

/** Where footage objects live: S3-compatible object storage or the local disk (embedded default). */
export interface FootageStore {
  readonly kind: 'local' | 's3';
  /** Throws when the store cannot be written; tells whether objects can be locked (WORM). */
  check(): Promise<{ objectLock: boolean }>;
  /** Stores a file under key; idempotent (same key, same bytes). retainUntil sets Object Lock where supported. */
  put(key: string, filePath: string, opts?: { retainUntil?: Date; sha256?: string }): Promise<void>;
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Null when the object does not exist. */
  stat(key: string): Promise<{ bytes: number } | null>;
  delete(key: string): Promise<void>;
  /** A location ffmpeg can read the object from: a file path, or a short-lived presigned URL. */
  readUrl(key: string, ttlSeconds?: number): Promise<string>;
}

/** Object keys are relative paths of safe segments only: no '..', no absolute paths, no odd characters. */
export function assertSafeKey(key: string): void {
  if (
    !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(key) ||
    key.split('/').some((p) => p === '.' || p === '..')
  ) {
    throw new Error(`unsafe object key: ${JSON.stringify(key)}`);
  }
}

/** Footage on the local disk under DATA_DIR/footage. */
export class LocalFootageStore implements FootageStore {
  readonly kind = 'local' as const;
  constructor(readonly root: string) {}

  async check(): Promise<{ objectLock: boolean }> {
    await mkdir(this.root, { recursive: true });
    // One file per check: overlapping checks on one name removed each other's file.
    const probe = path.join(this.root, `.probe-${process.pid}-${newId()}`);
    await writeFile(probe, 'ok');
    await rm(probe);
    return { objectLock: false };
  }

  private file(key: string): string {
    assertSafeKey(key);
    return path.join(this.root, key);
  }

  async put(key: string, filePath: string): Promise<void> {
    const target = this.file(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Linked (or copied) then renamed, so a crash never leaves a half-written object under its final
    // key. A hard link costs nothing where the spool and the footage share a disk (the embedded
    // default): the segment is written once, not copied; the spool's name is removed after indexing.
    const tmp = `${target}.partial-${process.pid}`;
    await rm(tmp, { force: true });
    await link(filePath, tmp).catch(async (err: NodeJS.ErrnoException) => {
      if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'].includes(err.code ?? '')) throw err;
      await copyFile(filePath, tmp);
    });
    await rename(tmp, target);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.file(key);
    await stat(file);
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<{ bytes: number } | null> {
    try {
      return { bytes: (await stat(this.file(key))).size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  async readUrl(key: string): Promise<string> {
    return `file:${path.resolve(this.file(key))}`;
  }
}

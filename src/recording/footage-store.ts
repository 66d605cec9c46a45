import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where footage objects live: S3-compatible object storage or the local disk (embedded default). */
export interface FootageStore {
  readonly kind: 'local' | 's3';
  /** Throws when the store cannot be written; tells whether objects can be locked (WORM). */
  check(): Promise<{ objectLock: boolean }>;
}

/** Footage on the local disk under DATA_DIR/footage. */
export class LocalFootageStore implements FootageStore {
  readonly kind = 'local' as const;
  constructor(readonly root: string) {}

  async check(): Promise<{ objectLock: boolean }> {
    await mkdir(this.root, { recursive: true });
    const probe = path.join(this.root, `.probe-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe);
    return { objectLock: false };
  }
}

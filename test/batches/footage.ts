import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql, type TestService } from '../support/service.js';

const run = promisify(execFile);

/**
 * Real MP4 segments for tests: one small encoded clip, remuxed (stream copy) with a distinct title
 * per segment so every segment has its own bytes and hash, as a recorder's would.
 */
export class SegmentFactory {
  private counter = 0;
  private constructor(
    readonly dir: string,
    private readonly base: string,
  ) {}

  static async create(): Promise<SegmentFactory> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ess-segs-'));
    const base = path.join(dir, 'base.mp4');
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x180:rate=10',
      '-t',
      '2',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '10',
      '-pix_fmt',
      'yuv420p',
      base,
    ]);
    return new SegmentFactory(dir, base);
  }

  async next(): Promise<string> {
    const file = path.join(this.dir, `seg-${++this.counter}.mp4`);
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-i',
      this.base,
      '-c',
      'copy',
      '-metadata',
      `title=segment ${this.counter} ${randomBytes(4).toString('hex')}`,
      file,
    ]);
    return file;
  }

  close(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

export interface InsertedSegment {
  id: string;
  key: string;
  startedAt: Date;
  endedAt: Date;
  sha256: string;
}

/**
 * Stores consecutive 2-second segments of a camera over [from, to) in the service's footage store
 * and indexes them with their real SHA-256, chained to the camera's previous segment.
 */
export async function recordFootage(
  svc: TestService,
  factory: SegmentFactory,
  camera: { id: string; siteId: string; unitId: string },
  from: Date,
  to: Date,
): Promise<InsertedSegment[]> {
  const out: InsertedSegment[] = [];
  const [last] = await sql<{ sha256: string }>(
    svc.schema,
    'SELECT sha256 FROM segments WHERE camera_id = $1 ORDER BY started_at DESC LIMIT 1',
    [camera.id],
  );
  let prev: string | null = last?.sha256 ?? null;
  for (let t = from.getTime(); t < to.getTime(); t += 2000) {
    const file = await factory.next();
    const bytes = await readFile(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const id = crypto.randomUUID();
    const key = `test/${camera.id}/${t}.mp4`;
    await svc.services.store.put(key, file);
    const startedAt = new Date(t);
    const endedAt = new Date(Math.min(t + 2000, to.getTime()));
    await sql(
      svc.schema,
      `INSERT INTO segments (id, camera_id, site_id, unit_id, started_at, ended_at, bytes, codec, width, height, sha256, prev_sha256, object_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'h264', 320, 180, $8, $9, $10)`,
      [id, camera.id, camera.siteId, camera.unitId, startedAt, endedAt, bytes.length, sha256, prev, key],
    );
    out.push({ id, key, startedAt, endedAt, sha256 });
    prev = sha256;
  }
  return out;
}

/** Polls until fn returns a truthy value or the deadline passes. */
export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 200));
  }
}

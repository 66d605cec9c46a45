import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A closed segment waiting in the spool for upload: `<startMs>_<durationMs>.mp4` in `ready/`. */
export interface ReadySegment {
  cameraId: string;
  file: string;
  path: string;
  startMs: number;
  durationMs: number;
  bytes: number;
}

const READY_NAME = /^(\d{13})_(\d{1,9})\.mp4$/;
const WORKING_NAME = /^(\d{13})_(\d{6})\.mp4$/;
const LIST_NAME = /^(\d{13})\.csv$/;

export const readyName = (startMs: number, durationMs: number) => `${startMs}_${durationMs}.mp4`;

export function parseReadyName(file: string): { startMs: number; durationMs: number } | null {
  const m = READY_NAME.exec(file);
  return m ? { startMs: Number(m[1]), durationMs: Number(m[2]) } : null;
}

/** One line of ffmpeg's segment list: the file and its start/end on the pull's timeline (seconds). */
export interface ListEntry {
  file: string;
  start: number;
  end: number;
}

export function parseSegmentList(text: string): ListEntry[] {
  const out: ListEntry[] = [];
  for (const line of text.split('\n')) {
    const [file, start, end] = line.trim().split(',');
    if (!file || start === undefined || end === undefined) continue;
    const s = Number(start);
    const e = Number(end);
    if (Number.isFinite(s) && Number.isFinite(e)) out.push({ file, start: s, end: e });
  }
  return out;
}

/**
 * The local spool under DATA_DIR/spool/<cameraId>: ffmpeg writes `<pullId>_NNNNNN.mp4` with a
 * `<pullId>.csv` list; closed segments are renamed into `ready/` with their wall-clock start.
 */
export class Spool {
  private idFile: Promise<string> | null = null;

  constructor(readonly root: string) {}

  /**
   * The spool's identity, made once and kept beside its files: the lane of its upload jobs, so only
   * the process that has these files uploads them, however roles are spread over hosts.
   */
  id(): Promise<string> {
    this.idFile ??= (async () => {
      const file = path.join(this.root, 'spool.id');
      const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
      if (/^[0-9a-f]{16}$/.test(existing)) return existing;
      await mkdir(this.root, { recursive: true });
      const id = randomBytes(8).toString('hex');
      await writeFile(`${file}.tmp`, id);
      await rename(`${file}.tmp`, file);
      return id;
    })();
    return this.idFile;
  }

  cameraDir(cameraId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(cameraId)) throw new Error(`unsafe camera id ${cameraId}`);
    return path.join(this.root, cameraId);
  }

  readyDir(cameraId: string): string {
    return path.join(this.cameraDir(cameraId), 'ready');
  }

  ensureCameraDirSync(cameraId: string): string {
    const dir = this.cameraDir(cameraId);
    mkdirSync(path.join(dir, 'ready'), { recursive: true });
    return dir;
  }

  async cameras(): Promise<string[]> {
    try {
      return (await readdir(this.root, { withFileTypes: true }))
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Ready segments of a camera, oldest first. */
  async ready(cameraId: string): Promise<ReadySegment[]> {
    const dir = this.readyDir(cameraId);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ReadySegment[] = [];
    for (const file of names) {
      const p = parseReadyName(file);
      if (!p) continue;
      const st = await stat(path.join(dir, file)).catch(() => null);
      if (st) out.push({ cameraId, file, path: path.join(dir, file), ...p, bytes: st.size });
    }
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /** Pulls with files still in the working area (not yet moved to ready/), by pull id. */
  async pulls(cameraId: string): Promise<number[]> {
    const names = await readdir(this.cameraDir(cameraId)).catch(() => [] as string[]);
    const ids = new Set<number>();
    for (const n of names) {
      const m = WORKING_NAME.exec(n) ?? LIST_NAME.exec(n);
      if (m) ids.add(Number(m[1]));
    }
    return [...ids].sort((a, b) => a - b);
  }

  async workingFiles(cameraId: string, pullId: number): Promise<string[]> {
    const names = await readdir(this.cameraDir(cameraId)).catch(() => [] as string[]);
    return names.filter((n) => n.startsWith(`${pullId}_`) && WORKING_NAME.test(n)).sort();
  }

  /** Bytes in a pull's segment list (0 before its first line). */
  async listSize(cameraId: string, pullId: number): Promise<number> {
    const st = await stat(path.join(this.cameraDir(cameraId), `${pullId}.csv`)).catch(() => null);
    return st?.size ?? 0;
  }

  async readList(cameraId: string, pullId: number): Promise<ListEntry[]> {
    try {
      return parseSegmentList(await readFile(path.join(this.cameraDir(cameraId), `${pullId}.csv`), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** The wall-clock epoch ms of a pull's timeline zero, once learnt (kept for crash recovery). */
  async readAnchor(cameraId: string, pullId: number): Promise<number | null> {
    try {
      const v = Number(await readFile(path.join(this.cameraDir(cameraId), `${pullId}.anchor`), 'utf8'));
      return Number.isFinite(v) ? v : null;
    } catch {
      return null;
    }
  }

  async writeAnchor(cameraId: string, pullId: number, anchorMs: number): Promise<void> {
    const file = path.join(this.cameraDir(cameraId), `${pullId}.anchor`);
    await writeFile(`${file}.tmp`, String(anchorMs));
    await rename(`${file}.tmp`, file);
  }

  /** Moves a closed working file into ready/ under its wall-clock name. */
  async markReady(
    cameraId: string,
    workingFile: string,
    startMs: number,
    durationMs: number,
  ): Promise<ReadySegment> {
    const dir = this.readyDir(cameraId);
    await mkdir(dir, { recursive: true });
    const file = readyName(startMs, durationMs);
    const target = path.join(dir, file);
    await rename(path.join(this.cameraDir(cameraId), workingFile), target);
    const st = await stat(target);
    return { cameraId, file, path: target, startMs, durationMs, bytes: st.size };
  }

  workingPath(cameraId: string, workingFile: string): string {
    return path.join(this.cameraDir(cameraId), workingFile);
  }

  async truncateWorking(cameraId: string, workingFile: string, bytes: number): Promise<void> {
    await truncate(this.workingPath(cameraId, workingFile), bytes);
  }

  async removeWorking(cameraId: string, workingFile: string): Promise<void> {
    await rm(this.workingPath(cameraId, workingFile), { force: true });
  }

  /** Forgets a pull once all its files are ready or discarded. */
  async removePull(cameraId: string, pullId: number): Promise<void> {
    const dir = this.cameraDir(cameraId);
    await rm(path.join(dir, `${pullId}.csv`), { force: true });
    await rm(path.join(dir, `${pullId}.anchor`), { force: true });
  }

  async remove(seg: ReadySegment): Promise<void> {
    await rm(seg.path, { force: true });
  }

  /** Bytes of every segment file in the spool (working and ready). */
  async totalBytes(): Promise<number> {
    let total = 0;
    for (const cam of await this.cameras()) {
      for (const dir of [this.cameraDir(cam), this.readyDir(cam)]) {
        for (const n of await readdir(dir).catch(() => [] as string[])) {
          if (!n.endsWith('.mp4')) continue;
          const st = await stat(path.join(dir, n)).catch(() => null);
          if (st) total += st.size;
        }
      }
    }
    return total;
  }
}

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root (where `npm start` runs). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const run = promisify(execFile);
const LOCK_DIR = path.join(ROOT, '.tmp', 'build.lock');
const USERS_DIR = path.join(ROOT, '.tmp', 'build-users');
const STAMP = path.join(ROOT, 'dist', '.build-stamp.json');
/** What `npm run build` reads: tsconfig.build.json (src, config, lab, scripts) and build:web (web/). */
const INPUT_DIRS = ['src', 'config', 'lab', 'scripts', 'web'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
const SKIP = new Set(['dist', 'node_modules', '__pycache__']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fingerprint of every build input: path, size and modification time. */
async function fingerprint(): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (SKIP.has(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const s = await stat(p).catch(() => null);
        if (s) hash.update(`${path.relative(ROOT, p)}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  for (const d of INPUT_DIRS) await walk(path.join(ROOT, d));
  for (const f of INPUT_FILES) {
    const s = await stat(path.join(ROOT, f)).catch(() => null);
    if (s) hash.update(`${f}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock shared by every test process of this working tree (mkdir is atomic); a lock whose holder
 * died is taken over.
 */
async function withLock<T>(fn: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  await mkdir(path.dirname(LOCK_DIR), { recursive: true });
  const token = `${process.pid} ${randomBytes(4).toString('hex')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(path.join(LOCK_DIR, 'owner'), token);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = await readFile(path.join(LOCK_DIR, 'owner'), 'utf8').catch(() => null);
      const pid = owner ? Number(owner.split(' ')[0]) : NaN;
      if (owner && !alive(pid)) await rm(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`build lock ${LOCK_DIR} held too long (by ${owner})`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    const owner = await readFile(path.join(LOCK_DIR, 'owner'), 'utf8').catch(() => null);
    if (owner === token) await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

/** Waits until no live process is between spawning the built service and its readiness. */
async function waitForUsers(timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const names = await readdir(USERS_DIR).catch(() => [] as string[]);
    const live = names.filter((n) => {
      const pid = Number(n.split('-')[0]);
      if (alive(pid)) return true;
      void rm(path.join(USERS_DIR, n), { force: true });
      return false;
    });
    if (live.length === 0 || Date.now() > deadline) return;
    await sleep(250);
  }
}

async function buildIfStale(): Promise<void> {
  const want = await fingerprint();
  const built =
    existsSync(path.join(ROOT, 'dist/src/main.js')) && existsSync(path.join(ROOT, 'web/dist/index.html'));
  const have = await readFile(STAMP, 'utf8').catch(() => null);
  if (built && have === want) return;
  // Rewriting dist/ under a service that is still loading its modules would break it.
  await waitForUsers();
  try {
    await run('npm', ['run', 'build'], { cwd: ROOT, timeout: 300_000, maxBuffer: 32 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  // The fingerprint from before the build: an edit made during it causes another build next time.
  await writeFile(STAMP, want);
}

/**
 * `npm run build` unless dist/ is already built from the current sources. Safe to call from many
 * test processes at once: one builds, the others wait and reuse it.
 */
export async function ensureBuilt(): Promise<void> {
  await withLock(buildIfStale);
}

/**
 * Runs `fn` (spawning the built service and waiting until it has loaded) on a fresh build that no
 * other test process rebuilds until `fn` is done.
 */
export async function withBuild<T>(fn: () => Promise<T>): Promise<T> {
  const mark = path.join(USERS_DIR, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await withLock(async () => {
    await buildIfStale();
    await mkdir(USERS_DIR, { recursive: true });
    await writeFile(mark, '');
  });
  try {
    return await fn();
  } finally {
    await rm(mark, { force: true });
  }
}

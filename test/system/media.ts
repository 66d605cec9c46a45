import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './build.js';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs: number, cwd?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export interface Played {
  formatName: string;
  duration: number;
  codec: string;
  width: number;
  height: number;
  /** Frames ffprobe decoded from start to end. */
  frames: number;
}

/**
 * Plays a file or URL to the end in ffprobe (every frame decoded), with a bearer token for HTTP.
 * Throws with ffprobe's errors when it cannot.
 */
export async function playInFfprobe(input: string, token?: string): Promise<Played> {
  const args = ['-v', 'error', '-count_frames'];
  // The HLS demuxer passes these headers on to every segment request.
  if (token) args.push('-headers', `Authorization: Bearer ${token}\r\n`);
  args.push(
    '-select_streams',
    'v:0',
    '-show_entries',
    'format=format_name,duration:stream=codec_name,width,height,nb_read_frames',
    '-of',
    'json',
    input,
  );
  const r = await run('ffprobe', args, 120_000);
  if (r.code !== 0) throw new Error(`ffprobe ${input} failed (${r.code}): ${r.stderr.slice(0, 2000)}`);
  const j = JSON.parse(r.stdout) as {
    format?: { format_name?: string; duration?: string };
    streams?: { codec_name?: string; width?: number; height?: number; nb_read_frames?: string }[];
  };
  const s = j.streams?.[0];
  if (!s) throw new Error(`ffprobe found no video in ${input}: ${r.stdout} ${r.stderr}`);
  return {
    formatName: j.format?.format_name ?? '',
    duration: Number(j.format?.duration ?? NaN),
    codec: s.codec_name ?? '',
    width: s.width ?? 0,
    height: s.height ?? 0,
    frames: Number(s.nb_read_frames ?? 0),
  };
}

export interface ExportCheck {
  exitCode: number;
  ok: boolean;
  problems: string[];
  checkedSegments: number;
  output: string;
}

/** `npm run verify-export -- <archive> --public-key <pem> --json`, offline, as an auditor runs it. */
export async function verifyExportOffline(archive: string, publicKeyFile: string): Promise<ExportCheck> {
  const r = await run(
    'npm',
    ['run', '--silent', 'verify-export', '--', archive, '--public-key', publicKeyFile, '--json'],
    120_000,
    ROOT,
  );
  const output = `${r.stdout}\n${r.stderr}`;
  try {
    const j = JSON.parse(r.stdout) as { ok: boolean; problems: string[]; checkedSegments: number };
    return { exitCode: r.code, ok: j.ok, problems: j.problems, checkedSegments: j.checkedSegments, output };
  } catch {
    throw new Error(`verify-export printed no JSON (exit ${r.code}): ${output.slice(0, 2000)}`);
  }
}

async function* files(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

/**
 * Finds the one stored object whose bytes hash to `sha` under the store's directories (the local
 * footage store, or the S3 server's) and flips one bit of its middle byte, as a tamperer with disk
 * access would. Returns the file changed.
 */
export async function flipByteInStoredObject(roots: string[], sha: string): Promise<string> {
  const found: { file: string; bytes: Buffer }[] = [];
  for (const root of roots)
    for await (const f of files(root)) {
      const bytes = await readFile(f);
      if (sha256(bytes) === sha) found.push({ file: f, bytes });
    }
  if (found.length !== 1)
    throw new Error(
      `expected one stored object with sha256 ${sha} under ${roots.join(', ')}, found ${found.length}: ${found.map((f) => f.file).join(', ')}`,
    );
  const { file, bytes } = found[0]!;
  const i = Math.floor(bytes.length / 2);
  bytes[i] = bytes[i]! ^ 0x01;
  await writeFile(file, bytes);
  return file;
}

#!/usr/bin/env node
/**
 * Offline verifier of a batch export archive: checks the manifest's Ed25519 signature and every
 * file's and segment's SHA-256 without the service. Exit code 0 when intact, 1 when anything is
 * wrong (each problem printed), 2 on bad usage.
 *
 *   npm run verify-export -- <archive.tar> [--public-key key.pem] [--json]
 */
import { readFile } from 'node:fs/promises';
import { verifyArchive } from '../src/batches/archive.js';

async function main(argv: string[]): Promise<number> {
  let archive: string | undefined;
  let keyFile: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--public-key') keyFile = argv[++i];
    else if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') archive = undefined;
    else if (!archive) archive = a;
    else {
      process.stderr.write(`unexpected argument: ${a}\n`);
      return 2;
    }
  }
  if (!archive || (argv.includes('--public-key') && !keyFile)) {
    process.stderr.write('usage: verify-export <archive.tar> [--public-key key.pem] [--json]\n');
    return 2;
  }
  const publicKeyPem = keyFile ? await readFile(keyFile, 'utf8') : undefined;
  const r = await verifyArchive(archive, { publicKeyPem });
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ok: r.ok, problems: r.problems, notes: r.notes, checkedFiles: r.checkedFiles, checkedSegments: r.checkedSegments }, null, 2)}\n`,
    );
  } else {
    const m = r.manifest;
    if (m)
      process.stdout.write(
        `batch ${m.batch.code} (${m.batch.id}), exported ${m.exportedAt} by ${m.exportedBy.username}\n`,
      );
    for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
    for (const p of r.problems) process.stdout.write(`PROBLEM: ${p}\n`);
    process.stdout.write(
      `${r.ok ? 'OK' : 'FAILED'}: ${r.checkedFiles} files, ${r.checkedSegments} segments checked, ${r.problems.length} problem(s)\n`,
    );
  }
  return r.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`verify-export: ${err.message}\n`);
    process.exitCode = 2;
  },
);

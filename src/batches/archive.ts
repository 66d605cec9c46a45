import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { sha256Stream, type Digest } from '../platform/hashing.js';
import { publicKeyFingerprint, verifySignature } from './signing.js';
import type { SegmentProblem } from './verify.js';

/** Names inside an export archive. */
export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.json.sig';
export const PUBLIC_KEY = 'signing-key.pub.pem';
export const MANIFEST_FORMAT = 'ess-batch-export/1';

export const segmentPath = (cameraId: string, segmentId: string) => `segments/${cameraId}/${segmentId}.mp4`;
export const videoPath = (sessionIndex: number, sessionId: string, cameraId: string) =>
  `sessions/${String(sessionIndex + 1).padStart(2, '0')}-${sessionId}/${cameraId}.mp4`;

export interface ManifestSegment {
  id: string;
  startedAt: string;
  endedAt: string;
  bytes: number;
  /** As recorded at capture time. */
  sha256: string;
  prevSha256: string | null;
  /** The camera's stored segment just before this one, when known; its hash must equal prevSha256. */
  prevSegmentId: string | null;
  /** The original segment inside the archive; null when it could not be exported. */
  file: string | null;
}

export interface ManifestCamera {
  cameraId: string;
  name: string;
  removedAt: string | null;
  zoneIds: string[];
  /** The session's footage of this camera joined into one MP4 (stream copy); null without footage. */
  video: string | null;
  segments: ManifestSegment[];
  gaps: { from: string; to: string; reason: string; detail: string | null }[];
}

export interface ExportManifest {
  format: typeof MANIFEST_FORMAT;
  exportId: string;
  batch: {
    id: string;
    code: string;
    unitId: string;
    unitName: string;
    occupationCode: string;
    level: number;
    status: string;
  };
  exportedBy: { userId: string; username: string };
  exportedAt: string;
  signingKeyFingerprint: string;
  zones: { id: string; siteId: string; name: string }[];
  sessions: {
    id: string;
    siteId: string;
    zoneIds: string[] | null;
    startsAt: string;
    endsAt: string;
    windowFrom: string;
    windowTo: string;
    supervisorIds: string[];
    cameras: ManifestCamera[];
  }[];
  /** Every file of the archive except the manifest, its signature and the public key. */
  files: { path: string; bytes: number; sha256: string }[];
  /** What the service found wrong with the stored footage while exporting. */
  problems: SegmentProblem[];
}

export interface ArchiveVerification {
  ok: boolean;
  problems: string[];
  notes: string[];
  checkedFiles: number;
  checkedSegments: number;
  manifest: ExportManifest | null;
}

/**
 * Checks an export archive without the service: the manifest's Ed25519 signature, every listed
 * file's SHA-256, every original segment against the hash recorded at capture, and the hash chain.
 * Files are hashed as they stream out of the archive, never held whole in memory.
 */
export async function verifyArchive(
  file: string,
  opts: { publicKeyPem?: string } = {},
): Promise<ArchiveVerification> {
  const small = new Map<string, Buffer>();
  const hashes = new Map<string, Digest>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name;
    if (name === MANIFEST || name === SIGNATURE || name === PUBLIC_KEY) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        small.set(name, Buffer.concat(chunks));
        next();
      });
      stream.on('error', next);
      return;
    }
    sha256Stream(stream).then((digest) => {
      if (header.type === 'file') hashes.set(name, digest);
      next();
    }, next);
  });
  await pipeline(createReadStream(file), extract);

  const problems: string[] = [];
  const notes: string[] = [];
  const manifestBytes = small.get(MANIFEST);
  if (!manifestBytes) {
    return {
      ok: false,
      problems: [`${MANIFEST} is missing from the archive`],
      notes,
      checkedFiles: 0,
      checkedSegments: 0,
      manifest: null,
    };
  }
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as ExportManifest;
  } catch {
    return {
      ok: false,
      problems: [`${MANIFEST} is not valid JSON`],
      notes,
      checkedFiles: 0,
      checkedSegments: 0,
      manifest: null,
    };
  }

  let key = opts.publicKeyPem;
  if (!key) {
    key = small.get(PUBLIC_KEY)?.toString('utf8');
    notes.push(
      `signature checked against the public key inside the archive; pass --public-key with the service's key (GET /api/v1/signing-key) to prove who signed it`,
    );
  }
  const signature = small.get(SIGNATURE);
  if (!signature) problems.push(`${SIGNATURE} is missing: the manifest is not signed`);
  else if (!key) problems.push(`no public key to check the signature with`);
  else if (!verifySignature(key, manifestBytes, signature.toString('utf8')))
    problems.push(
      `the signature does not match ${MANIFEST}: the manifest was changed after signing, or signed by another key`,
    );
  else notes.push(`signature valid (key ${publicKeyFingerprint(key)})`);

  const listed = new Set<string>();
  for (const f of manifest.files ?? []) {
    listed.add(f.path);
    const got = hashes.get(f.path);
    if (!got) problems.push(`file ${f.path}: listed in the manifest but missing from the archive`);
    else if (got.sha256 !== f.sha256 || got.bytes !== f.bytes)
      problems.push(
        `file ${f.path}: altered (sha256 ${got.sha256}, ${got.bytes} bytes; manifest says ${f.sha256}, ${f.bytes} bytes)`,
      );
  }
  for (const name of hashes.keys())
    if (!listed.has(name)) problems.push(`file ${name}: in the archive but not listed in the manifest`);

  const seen = new Map<string, ManifestSegment & { cameraId: string }>();
  for (const s of manifest.sessions ?? [])
    for (const c of s.cameras)
      for (const seg of c.segments) seen.set(seg.id, { ...seg, cameraId: c.cameraId });
  const segments = [...seen.values()];
  const label = (s: { id: string; cameraId: string; startedAt: string; endedAt: string }) =>
    `segment ${s.id} (camera ${s.cameraId}, ${s.startedAt} – ${s.endedAt})`;
  for (const seg of segments) {
    const got = seg.file ? hashes.get(seg.file) : undefined;
    if (!got) problems.push(`${label(seg)}: missing from the archive`);
    else if (got.sha256 !== seg.sha256)
      problems.push(
        `${label(seg)}: altered — its content hashes to ${got.sha256}, the hash recorded at capture is ${seg.sha256}`,
      );
  }
  for (const seg of segments) {
    const prev = seg.prevSegmentId ? seen.get(seg.prevSegmentId) : undefined;
    if (prev && seg.prevSha256 !== prev.sha256)
      problems.push(
        `${label(seg)}: hash chain broken — it links to ${seg.prevSha256 ?? 'nothing'}, the previous segment ${prev.id} hashes to ${prev.sha256}`,
      );
  }
  for (const p of manifest.problems ?? []) {
    if (!problems.some((m) => m.includes(p.segmentId)))
      problems.push(
        `segment ${p.segmentId} (camera ${p.cameraId}): ${p.kind} — reported by the service at export: ${p.detail}`,
      );
  }
  return {
    ok: problems.length === 0,
    problems,
    notes,
    checkedFiles: hashes.size,
    checkedSegments: segments.length,
    manifest,
  };
}

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { sha256File, Sha256Tap } from '../platform/hashing.js';
import {
  MANIFEST,
  MANIFEST_FORMAT,
  PUBLIC_KEY,
  SIGNATURE,
  segmentPath,
  videoPath,
  type ExportManifest,
  type ManifestCamera,
} from './archive.js';
import { concatArgs, concatList } from './concat.js';
import { gapJson, segmentJson, type FootageSegment, type SessionFootage } from './footage.js';
import type { SigningKey } from './signing.js';
import { mapBounded, type ChainLinks, type SegmentProblem } from './verify.js';
import type { Ffmpeg } from '../recording/ffmpeg.js';
import type { FootageStore } from '../recording/footage-store.js';

export interface ExportInput {
  exportId: string;
  batch: ExportManifest['batch'];
  exportedBy: ExportManifest['exportedBy'];
  exportedAt: Date;
  zones: ExportManifest['zones'];
  sessions: { footage: SessionFootage; supervisorIds: string[] }[];
}

export interface BuiltExport {
  archiveFile: string;
  bytes: number;
  manifest: ExportManifest;
  cleanup(): Promise<void>;
}

export interface ExportBuilderDeps {
  /** Answered by recording: the hash chain links of the segments exported. */
  segments: ChainLinks;
  store: FootageStore;
  signing: SigningKey;
  ffmpeg: Ffmpeg;
  concurrency: number;
  tmpRoot: string;
}

/**
 * Builds a batch export as one tar: per session and camera one MP4 joined by stream copy, every
 * original segment (so hashes and the chain can be checked offline), a manifest and its detached
 * Ed25519 signature. Works on temporary files; nothing is held whole in memory.
 */
export class BatchExportBuilder {
  constructor(private readonly deps: ExportBuilderDeps) {}

  async build(input: ExportInput, onProgress: (fraction: number) => Promise<void>): Promise<BuiltExport> {
    await mkdir(this.deps.tmpRoot, { recursive: true });
    const dir = await mkdtemp(path.join(this.deps.tmpRoot, `export-${input.exportId}-`));
    const cleanup = () => rm(dir, { recursive: true, force: true });
    try {
      return { ...(await this.buildIn(dir, input, onProgress)), cleanup };
    } catch (err) {
      await cleanup();
      throw err;
    }
  }

  private async buildIn(dir: string, input: ExportInput, onProgress: (f: number) => Promise<void>) {
    const all = new Map<string, FootageSegment>();
    for (const s of input.sessions)
      for (const c of s.footage.cameras) for (const seg of c.segments) all.set(seg.id, seg);
    const segments = [...all.values()];
    const links = await this.deps.segments.chainLinks(segments.map((s) => s.id));
    const problems: SegmentProblem[] = [];
    const good = new Set<string>();
    const files = new Map<string, { sha256: string; bytes: number }>();
    let done = 0;

    // Originals: copied out of the store with their hash computed on the way.
    await mapBounded(segments, this.deps.concurrency, async (seg) => {
      const rel = segmentPath(seg.cameraId, seg.id);
      const target = path.join(dir, rel);
      await mkdir(path.dirname(target), { recursive: true });
      if (!(await this.deps.store.stat(seg.objectKey))) {
        problems.push({
          segmentId: seg.id,
          cameraId: seg.cameraId,
          kind: 'missing',
          detail: 'the stored object is gone',
        });
      } else {
        const tap = new Sha256Tap();
        await pipeline(await this.deps.store.get(seg.objectKey), tap, createWriteStream(target));
        const { sha256, bytes } = tap.digest();
        files.set(rel, { sha256, bytes });
        if (sha256 === seg.sha256) good.add(seg.id);
        else
          problems.push({
            segmentId: seg.id,
            cameraId: seg.cameraId,
            kind: 'altered',
            detail: `stored object hashes to ${sha256}, recorded ${seg.sha256}`,
          });
      }
      const link = links.get(seg.id);
      if (link && seg.prevSha256 !== link.prevSha256)
        problems.push({
          segmentId: seg.id,
          cameraId: seg.cameraId,
          kind: 'chain_broken',
          detail: `links to ${seg.prevSha256 ?? 'nothing'} but the previous stored segment ${link.prevId} hashes to ${link.prevSha256}`,
        });
      await onProgress((0.6 * ++done) / Math.max(1, segments.length));
    });

    // One playable MP4 per session and camera, from the segments whose content is as recorded.
    const sessions: ExportManifest['sessions'] = [];
    const videos = input.sessions.reduce((n, s) => n + s.footage.cameras.length, 0);
    let joined = 0;
    for (const [i, { footage, supervisorIds }] of input.sessions.entries()) {
      const cameras: ManifestCamera[] = [];
      for (const cam of footage.cameras) {
        const usable = cam.segments.filter((s) => good.has(s.id));
        let video: string | null = null;
        if (usable.length > 0) {
          video = videoPath(i, footage.session.sessionId, cam.cameraId);
          const out = path.join(dir, video);
          await mkdir(path.dirname(out), { recursive: true });
          const list = `${out}.txt`;
          await writeFile(list, concatList(usable.map((s) => path.join(dir, segmentPath(s.cameraId, s.id)))));
          const r = await this.deps.ffmpeg.run(concatArgs(list, out), 10 * 60_000);
          if (r.code !== 0) throw new Error(`joining ${video} failed: ${r.stderr.trim().slice(-500)}`);
          await rm(list);
          files.set(video, await sha256File(out));
        }
        cameras.push({
          cameraId: cam.cameraId,
          name: cam.name,
          removedAt: cam.removedAt?.toISOString() ?? null,
          zoneIds: cam.zoneIds,
          video,
          segments: cam.segments.map((s) => ({
            ...segmentJson(s),
            prevSegmentId: links.get(s.id)?.prevId ?? null,
            file: files.has(segmentPath(s.cameraId, s.id)) ? segmentPath(s.cameraId, s.id) : null,
          })),
          gaps: cam.gaps.map(gapJson),
        });
        await onProgress(0.6 + (0.3 * ++joined) / Math.max(1, videos));
      }
      sessions.push({
        id: footage.session.sessionId,
        siteId: footage.session.siteId,
        zoneIds: footage.session.zoneIds,
        startsAt: footage.session.startsAt.toISOString(),
        endsAt: footage.session.endsAt.toISOString(),
        windowFrom: new Date(footage.window.from).toISOString(),
        windowTo: new Date(footage.window.to).toISOString(),
        supervisorIds,
        cameras,
      });
    }

    const manifest: ExportManifest = {
      format: MANIFEST_FORMAT,
      exportId: input.exportId,
      batch: input.batch,
      exportedBy: input.exportedBy,
      exportedAt: input.exportedAt.toISOString(),
      signingKeyFingerprint: this.deps.signing.fingerprint,
      zones: input.zones,
      sessions,
      files: [...files.entries()]
        .map(([p, h]) => ({ path: p, bytes: h.bytes, sha256: h.sha256 }))
        .sort((a, b) => a.path.localeCompare(b.path)),
      problems: problems.sort(
        (a, b) => a.segmentId.localeCompare(b.segmentId) || a.kind.localeCompare(b.kind),
      ),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2));
    const archiveFile = path.join(dir, 'export.tar');
    await this.writeTar(
      archiveFile,
      dir,
      manifestBytes,
      this.deps.signing.sign(manifestBytes),
      manifest.files,
    );
    await onProgress(1);
    return { archiveFile, bytes: (await stat(archiveFile)).size, manifest };
  }

  private async writeTar(
    archiveFile: string,
    dir: string,
    manifest: Buffer,
    signature: string,
    files: { path: string; bytes: number }[],
  ): Promise<void> {
    const pack = tar.pack();
    const out = createWriteStream(archiveFile);
    const written = new Promise<void>((resolve, reject) => {
      out.on('finish', resolve);
      out.on('error', reject);
      pack.on('error', reject);
    });
    pack.pipe(out);
    const mtime = new Date(0);
    const addBuffer = (name: string, data: Buffer) =>
      new Promise<void>((resolve, reject) =>
        pack.entry({ name, size: data.length, mtime }, data, (err) => (err ? reject(err) : resolve())),
      );
    await addBuffer(MANIFEST, manifest);
    await addBuffer(SIGNATURE, Buffer.from(`${signature}\n`));
    await addBuffer(PUBLIC_KEY, Buffer.from(this.deps.signing.publicKeyPem));
    for (const f of files) {
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: f.path, size: f.bytes, mtime }, (err) =>
          err ? reject(err) : resolve(),
        );
        const source = createReadStream(path.join(dir, f.path));
        source.on('error', reject);
        source.pipe(entry);
      });
    }
    pack.finalize();
    await written;
  }
}

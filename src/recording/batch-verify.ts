import { createHash } from 'node:crypto';
import type { Queryable } from '../platform/db.js';
import type { FootageSegment } from './batch-footage.js';
import type { FootageStore } from './footage-store.js';

export type SegmentProblemKind = 'missing' | 'altered' | 'chain_broken';

export interface SegmentProblem {
  segmentId: string;
  cameraId: string;
  kind: SegmentProblemKind;
  detail: string;
}

export interface SegmentVerification {
  ok: boolean;
  checkedSegments: number;
  problems: SegmentProblem[];
}

/** SHA-256 and size of a stored object, read as a stream; null when the object is gone. */
export async function hashObject(
  store: FootageStore,
  key: string,
): Promise<{ sha256: string; bytes: number } | null> {
  if (!(await store.stat(key))) return null;
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of await store.get(key)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Runs fn over items with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Each segment's stored predecessor (same camera, just before it), whatever window it falls in. */
export interface ChainLink {
  prevId: string;
  prevSha256: string;
}

export async function chainLinks(db: Queryable, segmentIds: string[]): Promise<Map<string, ChainLink>> {
  const rows = await db.query<{ id: string; prev_id: string; prev_sha256: string }>(
    `SELECT s.id, p.id AS prev_id, p.sha256 AS prev_sha256 FROM segments s
     JOIN LATERAL (SELECT id, sha256 FROM segments p WHERE p.camera_id = s.camera_id AND p.started_at < s.started_at
                   ORDER BY p.started_at DESC LIMIT 1) p ON true
     WHERE s.id = ANY($1)`,
    [segmentIds],
  );
  return new Map(rows.map((r) => [r.id, { prevId: r.prev_id, prevSha256: r.prev_sha256 }]));
}

/**
 * Each segment's prev_sha256 must be its stored predecessor's sha256. A segment without a stored
 * predecessor is only checked to start a chain when it claims none; an expired predecessor cannot be checked.
 */
export function chainProblems(segments: FootageSegment[], links: Map<string, ChainLink>): SegmentProblem[] {
  const problems: SegmentProblem[] = [];
  for (const seg of segments) {
    const link = links.get(seg.id);
    if (!link || seg.prevSha256 === link.prevSha256) continue;
    problems.push({
      segmentId: seg.id,
      cameraId: seg.cameraId,
      kind: 'chain_broken',
      detail: `links to ${seg.prevSha256 ?? 'nothing'} but the previous stored segment ${link.prevId} hashes to ${link.prevSha256}`,
    });
  }
  return problems;
}

/**
 * Re-reads every segment object and recomputes its hash, then checks each camera's hash chain.
 * Objects are read in parallel but streamed, so memory stays bounded whatever the segment sizes.
 */
export async function verifySegments(
  db: Queryable,
  store: FootageStore,
  segments: FootageSegment[],
  concurrency: number,
): Promise<SegmentVerification> {
  const unique = [...new Map(segments.map((s) => [s.id, s])).values()];
  const contentProblems = await mapBounded(
    unique,
    concurrency,
    async (seg): Promise<SegmentProblem | null> => {
      const actual = await hashObject(store, seg.objectKey);
      if (!actual)
        return {
          segmentId: seg.id,
          cameraId: seg.cameraId,
          kind: 'missing',
          detail: 'the stored object is gone',
        };
      if (actual.sha256 !== seg.sha256 || actual.bytes !== seg.bytes) {
        return {
          segmentId: seg.id,
          cameraId: seg.cameraId,
          kind: 'altered',
          detail: `stored object hashes to ${actual.sha256} (${actual.bytes} bytes), recorded ${seg.sha256} (${seg.bytes} bytes)`,
        };
      }
      return null;
    },
  );
  const problems = contentProblems.filter((p): p is SegmentProblem => p !== null);
  problems.push(
    ...chainProblems(
      unique,
      await chainLinks(
        db,
        unique.map((s) => s.id),
      ),
    ),
  );
  return { ok: problems.length === 0, checkedSegments: unique.length, problems };
}

import { sha256Stream, type Digest } from '../platform/hashing.js';
import type { FootageSegment } from './footage.js';
import type { FootageStore } from '../recording/footage-store.js';
import type { ChainLink, SegmentRepository } from '../recording/segment-repository.js';

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
export async function hashObject(store: FootageStore, key: string): Promise<Digest | null> {
  if (!(await store.stat(key))) return null;
  return sha256Stream(await store.get(key));
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

/** Answered by recording: each segment's stored predecessor (same camera, just before it). */
export type ChainLinks = Pick<SegmentRepository, 'chainLinks'>;
export type { ChainLink };

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
  segmentsIndex: ChainLinks,
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
  problems.push(...chainProblems(unique, await segmentsIndex.chainLinks(unique.map((s) => s.id))));
  return { ok: problems.length === 0, checkedSegments: unique.length, problems };
}

import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { Histogram } from 'prom-client';
import type { Clock } from '../platform/clock.js';
import { sha256File } from '../platform/hashing.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { Ffmpeg } from './ffmpeg.js';
import type { FootageStore } from './footage-store.js';
import { videoTrackInfo } from './mp4-boxes.js';
import type { Retention } from './retention.js';
import type { SegmentIndex } from './segment-index.js';
import type { ReadySegment, Spool } from './spool.js';
import type { CameraRepository } from '../ingest/camera-repository.js';

/** `<unit>/<site>/<camera>/<yyyy>/<mm>/<dd>/<startMs>_<durationMs>.mp4`, dates in UTC. */
export function objectKey(
  unitId: string,
  siteId: string,
  cameraId: string,
  startMs: number,
  durationMs: number,
): string {
  const d = new Date(startMs);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${unitId}/${siteId}/${cameraId}/${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${startMs}_${durationMs}.mp4`;
}

/**
 * The `segment.store` job: moves a camera's ready spool segments, oldest first, into the footage
 * store and the index (hash, put, index, remove). Stops at the first failure so order and chain hold;
 * every step is idempotent, so a retried job neither duplicates objects nor rows.
 */
export class SegmentUploader {
  /** Seconds from segment close to object stored and indexed, most recent last (bench, tests). */
  readonly latencies: number[] = [];
  private readonly histogram: Histogram;

  constructor(
    private readonly d: {
      /** Answered by ingest: the camera's site and unit, for the object key and the index row. */
      cameras: Pick<CameraRepository, 'placement'>;
      spool: Spool;
      store: FootageStore;
      index: SegmentIndex;
      retention: Retention;
      ffmpeg: Ffmpeg;
      clock: Clock;
      log: Logger;
      metrics: Metrics;
    },
  ) {
    const name = 'recording_segment_store_seconds';
    this.histogram =
      (d.metrics.registry.getSingleMetric(name) as Histogram | undefined) ??
      new Histogram({
        name,
        help: 'Time from segment close on the spool to object stored and indexed',
        buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
        registers: [d.metrics.registry],
      });
  }

  /** Uploads what the camera has ready; returns how many segments were stored. */
  async drain(cameraId: string, max = 500): Promise<number> {
    const cam = await this.d.cameras.placement(cameraId);
    if (!cam) {
      this.d.log.warn({ cameraId }, 'spool holds footage of an unknown camera; left in place');
      return 0;
    }
    let stored = 0;
    while (stored < max) {
      const ready = await this.d.spool.ready(cameraId);
      if (ready.length === 0) break;
      for (const seg of ready.slice(0, max - stored)) {
        await this.storeOne(cam.unitId, cam.siteId, seg);
        stored++;
      }
    }
    return stored;
  }

  private async storeOne(unitId: string, siteId: string, seg: ReadySegment): Promise<void> {
    const key = objectKey(unitId, siteId, seg.cameraId, seg.startMs, seg.durationMs);
    const closedAt = (await stat(seg.path)).mtimeMs;
    const { sha256 } = await sha256File(seg.path);
    const existing = await this.d.index.byKey(key);
    if (existing) {
      if (existing.sha256 === sha256) {
        await this.d.spool.remove(seg);
        return;
      }
      // Same key, other bytes: never overwrite evidence; keep the file aside for an operator.
      const aside = path.join(path.dirname(seg.path), '..', 'conflict');
      await mkdir(aside, { recursive: true });
      await rename(seg.path, path.join(aside, seg.file));
      this.d.log.error(
        { key, cameraId: seg.cameraId },
        'segment key already stored with other bytes; set aside',
      );
      return;
    }
    const meta = (await videoTrackInfo(seg.path).catch(() => null)) ?? (await this.d.ffmpeg.probe(seg.path));
    const startedAt = new Date(seg.startMs);
    const endedAt = new Date(seg.startMs + seg.durationMs);
    await this.d.store.put(key, seg.path, { sha256, retainUntil: this.d.retention.retainUntilFor(endedAt) });
    await this.d.index.insert({
      cameraId: seg.cameraId,
      siteId,
      unitId,
      startedAt,
      endedAt,
      bytes: seg.bytes,
      codec: meta?.codec ?? null,
      width: meta?.width ?? null,
      height: meta?.height ?? null,
      sha256,
      objectKey: key,
    });
    await this.d.spool.remove(seg);
    const seconds = Math.max(0, (Date.now() - closedAt) / 1000);
    this.histogram.observe(seconds);
    this.latencies.push(seconds);
    if (this.latencies.length > 10_000) this.latencies.splice(0, this.latencies.length - 10_000);
  }
}

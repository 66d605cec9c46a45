import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { SupervisedCamera, StreamOutputProvider } from '../ingest/stream-outputs.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { segmentOutputArgs } from './ffmpeg-args.js';
import type { Ffmpeg } from './ffmpeg.js';
import { soundLength, topLevelBoxes } from './mp4-boxes.js';
import { gapReason, type SegmentIndex } from './segment-index.js';
import type { ListEntry, ReadySegment, Spool } from './spool.js';

export interface RecorderDeps {
  spool: Spool;
  ffmpeg: Ffmpeg;
  index: SegmentIndex;
  clock: Clock;
  log: Logger;
  segmentSeconds: number;
  /** A segment is closed and waits in ready/ (publish, enqueue the store job). */
  onReady(seg: ReadySegment): void;
}

/** Backup poll of a pull's segment list (the watch is what normally reports a closed segment). */
const LIST_POLL_MS = 1500;

/**
 * Follows one pull's segment list. The wall-clock time of the pull's timeline zero (the anchor) is
 * learnt when the first segment closes: ffmpeg writes the list line as the cutting keyframe arrives,
 * so anchor = time the line is seen − its end time.
 */
class PullWatcher {
  anchorMs: number | null = null;
  private processed = 0;
  /** Size of the list when last read. */
  private listBytes = -1;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  lastEndMs: number | null = null;

  constructor(
    readonly camera: SupervisedCamera,
    readonly pullId: number,
    private readonly d: RecorderDeps,
  ) {}

  start(): void {
    const listName = `${this.pullId}.csv`;
    try {
      this.watcher = watch(this.d.spool.cameraDir(this.camera.id), (_event, name) => {
        if (name === listName) this.poke();
      });
      this.watcher.on('error', () => undefined);
    } catch (err) {
      this.d.log.warn({ err: (err as Error).message }, 'cannot watch spool; polling only');
    }
    // The directory watch sees each list line at once; the poll only backs it up.
    this.timer = setInterval(() => this.poke(), LIST_POLL_MS);
  }

  poke(): Promise<void> {
    const seenAt = this.d.clock.now().getTime();
    this.chain = this.chain
      .then(() => this.process(seenAt))
      .catch((err) =>
        this.d.log.warn({ err: (err as Error).message, cameraId: this.camera.id }, 'segment list'),
      );
    return this.chain;
  }

  private async process(seenAt: number | null): Promise<void> {
    // The backup poll reads the list only when it has grown (a stat, not an open, read and close).
    if (seenAt !== null) {
      const size = await this.d.spool.listSize(this.camera.id, this.pullId);
      if (size === this.listBytes) return;
      this.listBytes = size;
    }
    const entries = await this.d.spool.readList(this.camera.id, this.pullId);
    const fresh = entries.slice(this.processed);
    if (fresh.length === 0) return;
    if (this.anchorMs === null) this.anchorMs = await this.learnAnchor(fresh, seenAt);
    for (const e of fresh) {
      await this.ready(e);
      this.processed++;
    }
  }

  private async learnAnchor(fresh: ListEntry[], seenAt: number | null): Promise<number> {
    const saved = await this.d.spool.readAnchor(this.camera.id, this.pullId);
    if (saved !== null) return saved;
    const last = fresh[fresh.length - 1]!;
    let anchor: number;
    if (seenAt !== null) {
      anchor = seenAt - last.end * 1000;
    } else {
      // Recovering after a crash: the file was last written when its final packet arrived.
      const st = await stat(this.d.spool.workingPath(this.camera.id, fresh[0]!.file)).catch(() => null);
      anchor = (st?.mtimeMs ?? this.d.clock.now().getTime()) - fresh[0]!.end * 1000;
    }
    anchor = Math.round(anchor);
    await this.d.spool.writeAnchor(this.camera.id, this.pullId, anchor);
    return anchor;
  }

  private async ready(e: ListEntry): Promise<void> {
    const startMs = Math.round(this.anchorMs! + e.start * 1000);
    const endMs = Math.round(this.anchorMs! + e.end * 1000);
    this.lastEndMs = endMs;
    const exists = await stat(this.d.spool.workingPath(this.camera.id, e.file)).catch(() => null);
    if (!exists || endMs <= startMs) return;
    const seg = await this.d.spool.markReady(this.camera.id, e.file, startMs, endMs - startMs);
    this.d.onReady(seg);
  }

  /**
   * After ffmpeg has gone: takes the last list lines, then repairs the segment it was writing (whole
   * fragments kept, decoded to prove it) or discards it with a 'corrupt' gap. Returns the end of the
   * last good footage.
   */
  async settle(): Promise<number | null> {
    this.stop();
    await this.chain;
    await this.process(null);
    const listed = new Set((await this.d.spool.readList(this.camera.id, this.pullId)).map((e) => e.file));
    for (const file of await this.d.spool.workingFiles(this.camera.id, this.pullId)) {
      if (listed.has(file)) continue;
      await this.repairLeftover(file);
    }
    await this.d.spool.removePull(this.camera.id, this.pullId);
    return this.lastEndMs;
  }

  private async repairLeftover(file: string): Promise<void> {
    const cam = this.camera.id;
    const full = this.d.spool.workingPath(cam, file);
    const st = await stat(full);
    const { boxes } = await topLevelBoxes(full);
    const sound = soundLength(boxes);
    if (sound === 0) {
      await this.d.spool.removeWorking(cam, file);
      return;
    }
    if (sound < st.size) await this.d.spool.truncateWorking(cam, file, sound);
    const meta = await this.d.ffmpeg.probe(full);
    const startMs = this.lastEndMs ?? Math.round(st.mtimeMs - (meta?.durationMs ?? 0));
    if (!meta || !(await this.d.ffmpeg.decodesCleanly(full))) {
      await this.d.spool.removeWorking(cam, file);
      if (meta)
        await this.d.index.addGap(
          cam,
          new Date(startMs),
          new Date(startMs + meta.durationMs),
          'corrupt',
          `discarded ${file}: does not decode`,
        );
      this.d.log.warn({ cameraId: cam, file }, 'discarded a damaged leftover segment');
      return;
    }
    const seg = await this.d.spool.markReady(cam, file, startMs, meta.durationMs);
    this.lastEndMs = startMs + meta.durationMs;
    this.d.log.info(
      { cameraId: cam, file, bytes: seg.bytes, cutBytes: st.size - sound },
      'recovered a segment cut short',
    );
    this.d.onReady(seg);
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * The recording consumer of a camera's single pull: ffmpeg's segment muxer writes fragmented MP4
 * into the spool; closed segments go to ready/ and on to the store job.
 */
export class RecordingOutput implements StreamOutputProvider {
  readonly name = 'recording';
  private readonly pulls = new Map<string, PullWatcher>();
  private readonly lastPullId = new Map<string, number>();
  private readonly settling = new Set<Promise<unknown>>();

  constructor(private readonly d: RecorderDeps) {}

  outputArgs(camera: SupervisedCamera): string[] {
    const dir = this.d.spool.ensureCameraDirSync(camera.id);
    let pullId = this.d.clock.now().getTime();
    const last = this.lastPullId.get(camera.id);
    if (last !== undefined && pullId <= last) pullId = last + 1;
    this.lastPullId.set(camera.id, pullId);
    const previous = this.pulls.get(camera.id);
    if (previous) this.track(previous.settle());
    const w = new PullWatcher(camera, pullId, this.d);
    this.pulls.set(camera.id, w);
    return segmentOutputArgs({ dir, pullId, segmentSeconds: this.d.segmentSeconds });
  }

  onStart(camera: SupervisedCamera): void {
    this.pulls.get(camera.id)?.start();
  }

  onExit(camera: SupervisedCamera, at: Date, reason: string): void {
    const w = this.pulls.get(camera.id);
    if (!w) return;
    this.pulls.delete(camera.id);
    this.track(
      w.settle().then(async (lastEnd) => {
        const from = lastEnd !== null && lastEnd < at.getTime() ? new Date(lastEnd) : at;
        await this.d.index.openGap(camera.id, from, gapReason(reason), reason);
      }),
    );
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch((err) =>
      this.d.log.warn({ err: (err as Error).message }, 'settling a pull failed'),
    );
    this.settling.add(guarded);
    void guarded.finally(() => this.settling.delete(guarded));
  }

  /** Waits for exits being settled (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.settling.size) await Promise.all([...this.settling]);
  }

  /**
   * Start-up reconciliation: pulls a crashed process left behind are settled (listed segments made
   * ready, the cut one repaired or discarded) and a 'crash' gap opened after their last footage.
   */
  async reconcile(cameras: (cameraId: string) => Promise<SupervisedCamera | null>): Promise<number> {
    let settled = 0;
    for (const cameraId of await this.d.spool.cameras()) {
      const active = this.pulls.get(cameraId)?.pullId;
      const camera = await cameras(cameraId);
      if (!camera) continue;
      let lastEnd: number | null = null;
      const pulls = (await this.d.spool.pulls(cameraId)).filter((p) => p !== active);
      for (const pullId of pulls) {
        const end = await new PullWatcher(camera, pullId, this.d).settle();
        if (end !== null) lastEnd = end;
        settled++;
      }
      if (pulls.length)
        await this.d.index.openGap(
          cameraId,
          new Date(lastEnd ?? this.d.clock.now().getTime()),
          'crash',
          'service stopped uncleanly; recovered from the spool',
        );
    }
    return settled;
  }

  close(): void {
    for (const w of this.pulls.values()) w.stop();
  }
}

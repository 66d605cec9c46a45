import { createInterface } from 'node:readline';
import type { Logger } from '../platform/logger.js';
import { CameraState, type FaultKind, type StateChange } from './camera-state.js';
import { pullArgs, pullInputList } from './ffmpeg-args.js';
import { classifyFailure, parseFrameCrcLine, parseFrameSize } from './ffmpeg-output.js';
import { FaultSources, type FaultSource } from './fault-sources.js';
import {
  PICTURE_FAULTS,
  type PictureFault,
  type PictureState,
  type PictureThresholds,
} from './picture-checks.js';
import type { GrayFrame } from './picture.js';
import { PictureWatch, type EncoderSettings, type FaultChange, type PictureFloors } from './picture-watch.js';
import type { CameraStatus } from './schemas.js';
import type { ManagedProcess, ProcessSupervisor } from '../platform/processes.js';
import type { StreamOutputs, SupervisedCamera } from './stream-outputs.js';
import { StreamStats } from './stream-stats.js';

export interface SupervisorSettings {
  ffmpegPath: string;
  /** ffmpeg's own socket timeout for the RTSP connection. */
  ioTimeoutMs: number;
  /** No new frame for this long is a stall: the pull is restarted. */
  stallMs: number;
  /** Frames must flow this long before the camera counts as online again. */
  recoveryMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  sample: { width: number; height: number; fps: number };
  /** Samples of the first ms of each pull are not judged (a stream joined mid-GOP starts smeared). */
  pictureWarmupMs: number;
  floors: PictureFloors;
  picture: PictureThresholds;
}

/** What GET /cameras/:id shows and camera.health carries. */
export interface CameraHealth {
  status: CameraStatus;
  fps: number | null;
  /** kbit/s of the camera's main stream. */
  bitrate: number | null;
  width: number | null;
  height: number | null;
  lastFrameAt: string | null;
  picture: PictureState;
  clockSkewMs: number | null;
  reconnects: number;
  uptimeRatio: number;
  faults: FaultKind[];
  /** Who reports each active picture fault: the picture checks, the camera's own analytics, or both. */
  faultSources: Partial<Record<PictureFault, FaultSource[]>>;
  referenceSet: boolean;
}

/** Capped exponential backoff with jitter: attempt 0 waits about `min`, later ones up to `max`. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + random() * 0.5));
}

const TICK_MS = 250;
const FLOOR_EVERY_TICKS = 2;

/**
 * One camera's single pull: one ffmpeg reads the main stream with `-c copy` into every registered
 * consumer, logs each packet for the stream health and samples small grey frames for the picture
 * checks. It restarts the pull after a failure or a stall with capped backoff, until stopped.
 */
export class StreamSupervisor {
  readonly state: CameraState;
  private readonly watch: PictureWatch;
  private readonly sources = new FaultSources();
  private readonly stats = new StreamStats();
  private proc: ManagedProcess | null = null;
  private stopping = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private size: { width: number; height: number } | null = null;
  private clockSkewMs: number | null = null;
  reconnects = 0;
  private pulls = 0;

  constructor(
    readonly camera: SupervisedCamera,
    private readonly pullUrl: string,
    private readonly s: SupervisorSettings,
    private readonly deps: {
      processes: ProcessSupervisor;
      outputs: StreamOutputs;
      log: Logger;
      onChange: (changes: StateChange[]) => void;
      /** Throws when the camera's address may not be opened now (network policy, checked per pull). */
      checkAddress: () => Promise<void>;
      /** A picture has just become the camera's reference by itself (healthy and still for a while). */
      onReference: (frame: GrayFrame) => void;
    },
  ) {
    this.state = new CameraState(Date.now(), s.recoveryMs);
    this.watch = new PictureWatch(s);
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.proc?.stop();
    await this.running;
  }

  setReference(frame: GrayFrame | null): void {
    this.watch.checker.setReference(frame);
    if (!frame)
      this.applyFaults([
        { kind: 'moved', active: false },
        { kind: 'blurred', active: false },
      ]);
  }

  /** The main stream's encoder settings as the camera reports them (null: unknown). */
  setEncoder(settings: EncoderSettings | null): void {
    this.watch.setEncoder(settings);
  }

  /** The camera's own analytics report a picture fault (an ONVIF event on `topic`) or its end. */
  cameraReports(kind: PictureFault, active: boolean, topic: string): void {
    const merged = this.sources.set(kind, 'camera', active, `camera event ${topic}`);
    if (merged) this.emit(this.state.setFault(merged.kind, merged.active, merged.detail));
  }

  setClockSkew(skewMs: number | null, limitMs: number): void {
    this.clockSkewMs = skewMs;
    const bad = skewMs !== null && Math.abs(skewMs) > limitMs;
    this.emit(this.state.setFault('clock_skew', bad, bad ? `camera clock off by ${skewMs} ms` : undefined));
  }

  health(now = Date.now()): CameraHealth {
    const rates = this.state.isDelivering() ? this.stats.rates(now) : null;
    return {
      status: this.state.status,
      fps: rates ? round(rates.fps, 2) : null,
      bitrate: rates ? Math.round(rates.kbps) : null,
      width: this.size?.width ?? null,
      height: this.size?.height ?? null,
      lastFrameAt: this.stats.lastPacketAt ? new Date(this.stats.lastPacketAt).toISOString() : null,
      picture: this.watch.checker.state(),
      clockSkewMs: this.clockSkewMs,
      reconnects: this.reconnects,
      uptimeRatio: round(this.state.uptimeRatio(now), 4),
      faults: this.state.activeFaults(),
      faultSources: this.sources.view(),
      referenceSet: this.watch.checker.hasReference,
    };
  }

  private emit(changes: StateChange[]): void {
    if (changes.length) this.deps.onChange(changes);
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      const delivered = await this.pullOnce().catch((err: unknown) => {
        this.deps.log.warn({ camera: this.camera.id, err }, 'pull failed to run');
        return false;
      });
      if (this.stopping) break;
      if (delivered) attempt = 0;
      const delay = backoffDelay(attempt++, this.s.reconnectMinMs, this.s.reconnectMaxMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
      if (!this.stopping) this.reconnects++;
    }
  }

  /** Runs one ffmpeg until it ends or stalls; true if the camera delivered in between. */
  private async pullOnce(): Promise<boolean> {
    const refused = await this.deps.checkAddress().then(
      () => null,
      (err: Error) => err.message,
    );
    if (refused !== null) {
      this.emit(this.state.failed('refused', refused, Date.now()));
      return false;
    }
    const providers = this.deps.outputs.list();
    const outputs = providers.map((p) => p.outputArgs(this.camera));
    const args = pullArgs({
      ioTimeoutMs: this.s.ioTimeoutMs,
      outputs,
      sample: this.s.sample,
    });
    const proc = this.deps.processes.spawn(`ffmpeg:${this.camera.id}`, this.s.ffmpegPath, args, {
      extraPipes: 1,
      // The address (with credentials) goes over stdin, never on the command line.
      input: pullInputList(this.pullUrl, this.s.ioTimeoutMs),
    });
    this.proc = proc;
    this.pulls++;
    const startedAt = Date.now();
    for (const p of providers) p.onStart?.(this.camera, new Date(startedAt));
    this.stats.reset();
    this.watch.checker.restart();

    let timeBase = 1 / 90000;
    createInterface({ input: proc.pipe(3) }).on('line', (line) => {
      const parsed = parseFrameCrcLine(line, timeBase);
      if (parsed.timeBase) timeBase = parsed.timeBase;
      if (parsed.packet) this.stats.add(parsed.packet, Date.now());
    });
    let stderrTail = '';
    createInterface({ input: proc.stderr }).on('line', (line) => {
      const size = parseFrameSize(line);
      if (size) this.onFrameSize(size);
      else if (!/showinfo|^\s/.test(line)) stderrTail = (stderrTail + line + '\n').slice(-4000);
    });
    // Each grey frame is copied once, from the pipe's chunks into its own array (issue 11).
    const { width, height } = this.s.sample;
    let frame = new Uint8Array(width * height);
    let filled = 0;
    proc.stdout.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length;) {
        const n = Math.min(frame.length - filled, chunk.length - at);
        frame.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === frame.length) {
          this.onFrame({ width, height, data: frame });
          frame = new Uint8Array(width * height);
          filled = 0;
        }
      }
    });

    let ended = null as { reason: string; detail: string } | null;
    let ticks = 0;
    let reported = false;
    let lastTickAt = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      const last = this.stats.lastPacketAt;
      if (ended) return;
      // A tick this late means the event loop was blocked: the packets that arrived meanwhile are
      // still unread behind this timer, so silence now says nothing about the camera. Judging it a
      // stall restarted every pull at once after one long block, and the restarts blocked it again.
      const late = now - lastTickAt > this.s.stallMs / 2;
      lastTickAt = now;
      if (late) return;
      if (last === null && now - startedAt > this.s.ioTimeoutMs + 2000) {
        ended = { reason: 'stalled', detail: 'connected but no frames arrive' };
        void proc.stop(1000);
      } else if (last !== null && now - last > this.s.stallMs) {
        ended = { reason: 'stalled', detail: `no frames for ${now - last} ms` };
        // Say so now: ffmpeg blocked in a socket read may take a while to end.
        this.emit(this.state.failed(ended.reason, ended.detail, now));
        reported = true;
        void proc.stop(1000);
      } else if (last !== null) {
        this.emit(this.state.flowing(this.stats.flowingFor(now), now));
        if (++ticks % FLOOR_EVERY_TICKS === 0)
          this.applyFaults(this.watch.checkFloors(this.stats.rates(now), this.size));
      }
    }, TICK_MS);

    const exit = await proc.exited;
    clearInterval(timer);
    this.proc = null;
    const delivered = this.state.isDelivering();
    if (!ended) {
      const c = classifyFailure(stderrTail);
      ended =
        exit.code === 0 && c.reason === 'error'
          ? { reason: 'stream_ended', detail: 'the camera ended the stream' }
          : c;
    }
    if (ended.reason === 'timeout' && this.state.reason?.startsWith('stalled'))
      ended = { reason: 'stalled', detail: ended.detail };
    const reason = this.stopping ? 'stopped' : ended.reason;
    for (const p of providers) p.onExit?.(this.camera, new Date(), reason);
    if (!this.stopping && !reported) this.emit(this.state.failed(ended.reason, ended.detail, Date.now()));
    return delivered;
  }

  private onFrame(frame: GrayFrame): void {
    const now = Date.now();
    // A pull that joins mid-GOP decodes concealed, smeared pictures until the next keyframe.
    if (this.stats.flowingFor(now) < this.s.pictureWarmupMs) return;
    const { changes, reference } = this.watch.sample(frame, now);
    this.applyFaults(changes);
    if (reference) this.deps.onReference(reference);
  }

  private onFrameSize(size: { width: number; height: number }): void {
    this.size = size;
  }

  /** Applies fault changes; picture faults first merge with what the camera itself reports. */
  private applyFaults(changes: FaultChange[]): void {
    for (const c of changes) {
      const merged = isPicture(c.kind) ? this.sources.set(c.kind, 'checks', c.active, 'picture check') : c;
      if (merged) this.emit(this.state.setFault(merged.kind, merged.active, merged.detail));
    }
  }
}

const isPicture = (kind: FaultKind): kind is PictureFault =>
  (PICTURE_FAULTS as readonly string[]).includes(kind);

function round(v: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(v * m) / m;
}

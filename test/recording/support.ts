import { spawn, type ChildProcess } from 'node:child_process';
import type { SupervisedCamera, StreamOutputProvider } from '../../src/ingest/stream-outputs.js';

/**
 * A minimal stand-in for the ingest supervisor: one ffmpeg pulling a camera with the provider's
 * output arguments, onStart/onExit called as the real supervisor does.
 */
export class TestPull {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private supervising = false;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  /** Exits seen (reason per exit), as the supervisor reported them. */
  readonly exits: string[] = [];
  /** When the current (or last) ffmpeg was started (ms). */
  startedAt = 0;

  constructor(
    readonly camera: SupervisedCamera,
    readonly input: string[],
    readonly provider: StreamOutputProvider,
  ) {}

  static rtsp(camera: SupervisedCamera, url: string, provider: StreamOutputProvider): TestPull {
    return new TestPull(camera, ['-rtsp_transport', 'tcp', '-timeout', '2000000', '-i', url], provider);
  }

  start(): void {
    this.stopping = false;
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      ...this.input,
      ...this.provider.outputArgs(this.camera),
    ];
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.startedAt = Date.now();
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    this.provider.onStart?.(this.camera, new Date());
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.child = null;
        const reason = this.stopping
          ? 'stopped'
          : `camera lost: ffmpeg exited ${code ?? signal}: ${stderr.slice(-200)}`;
        this.exits.push(reason);
        this.provider.onExit?.(this.camera, new Date(), reason);
        resolve();
        if (this.supervising) this.restartTimer = setTimeout(() => this.supervising && this.start(), 1000);
      });
    });
  }

  /** Keeps the pull running: restarted a second after every exit until stop(). */
  supervise(): void {
    this.supervising = true;
    this.start();
  }

  get running(): boolean {
    return this.child !== null;
  }

  /** Ends the pull as the supervisor does on stop: SIGINT lets ffmpeg close the last segment. */
  async stop(): Promise<void> {
    this.supervising = false;
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.kill('SIGINT');
    await this.exited;
  }

  wait(): Promise<void> {
    return this.exited;
  }
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

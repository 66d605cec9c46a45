import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../platform/logger.js';

/** util-linux setpriv: makes the kernel kill a child when this process dies, even by SIGKILL. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One child the supervisor watches; stop() ends it for sure (SIGTERM, wait, SIGKILL). */
export class ManagedProcess {
  readonly exited: Promise<ExitInfo>;
  /** Exited and every pipe drained and closed. */
  readonly closed: Promise<void>;
  private exitInfo: ExitInfo | null = null;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    private readonly killTimeoutMs: number,
  ) {
    this.exited = new Promise((resolve) => {
      const done = (info: ExitInfo) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        resolve(info);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', () => done({ code: -1, signal: null }));
    });
    this.closed = new Promise((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
  get running(): boolean {
    return this.exitInfo === null;
  }
  get stdout(): Readable {
    return this.child.stdout!;
  }
  get stderr(): Readable {
    return this.child.stderr!;
  }
  get stdin(): Writable {
    return this.child.stdin!;
  }
  /** An extra pipe (fd 3, ...) requested at spawn. */
  pipe(fd: number): Readable {
    return this.child.stdio[fd] as Readable;
  }

  async stop(timeoutMs = this.killTimeoutMs): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/**
 * The one place that spawns external processes (ffmpeg, ffprobe). It keeps every child it started,
 * so a stopping service ends them all and tests can count them.
 */
export class ProcessSupervisor {
  private readonly children = new Set<ManagedProcess>();

  constructor(
    private readonly log: Logger,
    private readonly killTimeoutMs = 3000,
  ) {}

  /** Children alive now. */
  get count(): number {
    return this.children.size;
  }

  spawn(
    name: string,
    cmd: string,
    args: string[],
    opts: { extraPipes?: number; stdin?: boolean; input?: string | Buffer } = {},
  ): ManagedProcess {
    const withStdin = opts.stdin === true || opts.input !== undefined;
    const stdio: ('pipe' | 'ignore')[] = [withStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'];
    for (let i = 0; i < (opts.extraPipes ?? 0); i++) stdio.push('pipe');
    const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, { stdio });
    const proc = new ManagedProcess(name, child, this.killTimeoutMs);
    this.children.add(proc);
    child.once('error', (err) => this.log.warn({ name, err: err.message }, 'process failed to start'));
    void proc.exited.then(() => this.children.delete(proc));
    if (opts.input !== undefined) {
      // A child that exits before reading all of it closes the pipe: not an error of ours.
      proc.stdin.on('error', () => undefined);
      proc.stdin.end(opts.input);
    }
    return proc;
  }

  /** Runs a command to completion with a hard deadline; stdin gets `input` when given. */
  async run(
    name: string,
    cmd: string,
    args: string[],
    opts: { timeoutMs: number; input?: string | Buffer },
  ): Promise<RunResult> {
    const proc = this.spawn(name, cmd, args, { input: opts.input });
    const out: Buffer[] = [];
    let err = '';
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void proc.stop(500);
    }, opts.timeoutMs);
    const info = await proc.exited;
    clearTimeout(timer);
    // 'exit' can come before the pipes are drained.
    await proc.closed;
    return { code: info.code, stdout: Buffer.concat(out), stderr: err, timedOut };
  }

  async close(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.stop()));
  }
}

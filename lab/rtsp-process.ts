import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { VariantFiles } from './variants.js';

/** Python with GObject introspection: the pyenv python3 on PATH usually lacks `gi`. */
export const SYSTEM_PYTHON = process.env.LAB_PYTHON ?? '/usr/bin/python3';
const SERVER_SCRIPT = fileURLToPath(new URL('./rtsp_server.py', import.meta.url));

export interface CameraStreamState {
  offline: boolean;
  stalled: boolean;
  black: boolean;
  frozen: boolean;
  blurred: boolean;
  covered: boolean;
  moved: boolean;
  lowFps: boolean;
  lowBitrate: boolean;
  lowResolution: boolean;
  skewMs: number;
  wrongCredentials: boolean;
  /** Room mode: the loop of the scene change shown when no picture fault is (a name in its variants). */
  change: string | null;
}

export interface RtspServerConfig {
  mode: 'live' | 'scale';
  width: number;
  height: number;
  subWidth: number;
  subHeight: number;
  fps: number;
  mainKbps: number;
  subKbps: number;
  cameras: {
    id: string;
    name: string;
    username: string;
    password: string;
    internalUser: string;
    internalPassword: string;
    /** The camera's own loops (room mode: its scene), instead of the lab's. */
    variants?: VariantFiles;
  }[];
  variants?: VariantFiles;
}

interface Reply {
  id?: number;
  ok?: boolean;
  error?: string;
  event?: string;
  ports?: Record<string, number>;
}

/** The python GStreamer RTSP server, driven over JSON lines on stdin/stdout. */
export class RtspProcess {
  readonly child: ChildProcessWithoutNullStreams;
  ports: Record<string, number> = {};
  private nextId = 1;
  private pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private exited: Promise<void>;
  private stderrTail = '';

  private constructor(config: RtspServerConfig) {
    this.child = spawn(SYSTEM_PYTHON, [SERVER_SCRIPT, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
      if (process.env.LAB_DEBUG) process.stderr.write(d);
    });
  }

  static async start(config: RtspServerConfig, timeoutMs = 20_000): Promise<RtspProcess> {
    const proc = new RtspProcess(config);
    const lines = createInterface({ input: proc.child.stdout });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('RTSP server did not start in time')), timeoutMs);
      proc.child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`RTSP server exited with ${code}: ${proc.stderrTail}`));
      });
      lines.on('line', (line) => {
        let msg: Reply;
        try {
          msg = JSON.parse(line) as Reply;
        } catch {
          return;
        }
        if (msg.event === 'ready' && msg.ports) {
          proc.ports = msg.ports;
          clearTimeout(timer);
          resolve();
        } else if (msg.id !== undefined) {
          const p = proc.pending.get(msg.id);
          proc.pending.delete(msg.id);
          if (msg.ok) p?.resolve();
          else p?.reject(new Error(msg.error ?? 'RTSP server command failed'));
        }
      });
    });
    proc.child.once('exit', () => {
      for (const p of proc.pending.values()) p.reject(new Error('RTSP server exited'));
      proc.pending.clear();
    });
    try {
      await ready;
    } catch (e) {
      await proc.stop();
      throw e;
    }
    return proc;
  }

  setState(cameraId: string, state: CameraStreamState): Promise<void> {
    return this.send({ cmd: 'state', cam: cameraId, state });
  }

  private send(msg: Record<string, unknown>): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        reject(new Error('RTSP server is not running'));
        return;
      }
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(JSON.stringify({ ...msg, id }) + '\n');
    });
  }

  /** Closes stdin (the server exits on EOF), then signals; resolves once the process is gone. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.end();
    const term = setTimeout(() => this.child.kill('SIGTERM'), 1500);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 4000);
    await this.exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}

import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../platform/logger.js';
import { freePort } from '../platform/ports.js';

/** The parts of node-media-server 4.4 this wrapper uses (it ships no types). */
interface NmsInstance {
  run(): Promise<void>;
  stop(): Promise<void>;
}
interface NmsSession {
  id: string;
  ip: string;
  protocol: string;
  streamPath: string;
  isPublisher: boolean;
  close(): void;
}
interface NmsContext {
  eventEmitter: {
    on(event: string, listener: (session: NmsSession) => void): void;
    off(event: string, listener: (session: NmsSession) => void): void;
  };
  broadcasts: Map<
    string,
    { publisher: unknown; subscribers: Map<string, unknown>; getPublishStatus(): string }
  >;
}

const require = createRequire(import.meta.url);

export const LIVE_APP = 'live';

/** The publish URL's `sign` for node-media-server: `<exp>-md5(<path>-<exp>-<secret>)`. */
export function nmsSign(streamPath: string, secret: string, exp: number): string {
  return `${exp}-${createHash('md5').update(`${streamPath}-${exp}-${secret}`).digest('hex')}`;
}

export interface MediaServerInfo {
  rtmpPort: number;
  httpPort: number;
}

/**
 * node-media-server (RTMP in, HTTP-FLV / WS-FLV out) bound to loopback. Only the API reaches its
 * HTTP side, after checking a signed URL: NMS's own play check answers bad signatures with 200
 * and an empty body. Publishing needs NMS's sign (secret shared with the stream supervisor).
 * NMS keeps its state in module globals, so one instance serves the whole process, shared by
 * reference count.
 */
export class MediaServer {
  private static shared: { server: MediaServer; refs: number } | null = null;

  private constructor(
    private readonly nms: NmsInstance,
    private readonly context: NmsContext,
    readonly info: MediaServerInfo,
  ) {}

  private readonly stops: (() => void)[] = [];

  static async acquire(opts: {
    rtmpPort: number;
    httpPort: number;
    publishSecret: string;
    log: Logger;
  }): Promise<MediaServer> {
    if (MediaServer.shared) {
      MediaServer.shared.refs++;
      return MediaServer.shared.server;
    }
    const rtmpPort = opts.rtmpPort || (await freePort());
    const httpPort = opts.httpPort || (await freePort());
    const NodeMediaServer = require('node-media-server') as new (config: unknown) => NmsInstance;
    const nmsLogger = require('node-media-server/src/core/logger.js') as {
      log: (message: string, level?: string) => void;
    };
    // NMS prints to stdout at debug level; its messages go to our logger instead (warnings and up).
    nmsLogger.log = (message, level = 'info') => {
      if (level === 'error') opts.log.error({ nms: true }, message);
      else if (level === 'warn') opts.log.warn({ nms: true }, message);
    };
    const context = require('node-media-server/src/core/context.js') as NmsContext;
    const nms = new NodeMediaServer({
      bind: '127.0.0.1',
      rtmp: { port: rtmpPort },
      http: { port: httpPort },
      auth: { publish: true, play: false, secret: opts.publishSecret },
      webadmin: { enable: false },
      store: { path: path.join(os.tmpdir(), `ess-nms-${process.pid}`) },
    });
    const server = new MediaServer(nms, context, { rtmpPort, httpPort });
    // NMS keeps its events on a module-wide emitter that outlives the server: released in release().
    server.stops.push(
      server.onEvent('postPublish', (s) => opts.log.debug({ stream: s.streamPath }, 'live stream published')),
      server.onEvent('donePublish', (s) => opts.log.debug({ stream: s.streamPath }, 'live stream ended')),
    );
    await nms.run();
    MediaServer.shared = { server, refs: 1 };
    return server;
  }

  static streamPath(cameraId: string): string {
    return `/${LIVE_APP}/${cameraId}`;
  }

  /** Is the camera's stream being pushed right now? */
  isPublishing(cameraId: string): boolean {
    return this.context.broadcasts.get(MediaServer.streamPath(cameraId))?.getPublishStatus() === 'publishing';
  }

  /** Players attached to a camera's stream. */
  players(cameraId: string): number {
    return this.context.broadcasts.get(MediaServer.streamPath(cameraId))?.subscribers.size ?? 0;
  }

  /**
   * Calls back with a camera's player count whenever a player attaches or detaches (after NMS has
   * counted it); returns the unsubscribe.
   */
  onPlayers(listener: (cameraId: string, players: number) => void): () => void {
    const prefix = `/${LIVE_APP}/`;
    const notify = (session: NmsSession) => {
      if (!session.streamPath?.startsWith(prefix)) return;
      const cameraId = session.streamPath.slice(prefix.length);
      // NMS emits before it adds or removes the player: count once it has.
      setImmediate(() => listener(cameraId, this.players(cameraId)));
    };
    const stops = [this.onEvent('postPlay', notify), this.onEvent('donePlay', notify)];
    return () => stops.forEach((stop) => stop());
  }

  private onEvent(name: string, listener: (session: NmsSession) => void): () => void {
    this.context.eventEmitter.on(name, listener);
    return () => this.context.eventEmitter.off(name, listener);
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.info.httpPort}`;
  }

  async release(): Promise<void> {
    const shared = MediaServer.shared;
    if (!shared || shared.server !== this) return;
    if (--shared.refs > 0) return;
    MediaServer.shared = null;
    for (const stop of this.stops.splice(0)) stop();
    await this.nms.stop();
  }
}

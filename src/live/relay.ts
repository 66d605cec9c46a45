import { systemActor } from '../access/actor.js';
import { MediaServer, nmsSign } from './media-server.js';
import type { Logger } from '../platform/logger.js';
import { checkStoredStream, type NetworkPolicy } from '../ingest/camera-address.js';
import type { CameraRegistry } from '../ingest/cameras.js';
import { cameraInputArgs, pullInputList } from '../ingest/ffmpeg-args.js';
import type { ManagedProcess, ProcessSupervisor } from '../platform/processes.js';

/** How long a publish signature stays valid: it is checked once, when ffmpeg connects. */
const PUBLISH_SIGN_SECONDS = 24 * 3600;
/** Pause before restarting a relay that ended while someone still watches. */
const RETRY_MS = 1000;

/** ffmpeg output arguments that copy a camera's video to the media server as FLV over RTMP. */
export function liveOutputArgs(rtmpBase: string, cameraId: string, secret: string, nowMs: number): string[] {
  const streamPath = MediaServer.streamPath(cameraId);
  const sign = nmsSign(streamPath, secret, Math.floor(nowMs / 1000) + PUBLISH_SIGN_SECONDS);
  // tag 7 = FLV's AVC id; FLV carries H.264 only.
  return [
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    '-tag:v',
    '7',
    '-an',
    '-f',
    'flv',
    `${rtmpBase}${streamPath}?sign=${sign}`,
  ];
}

/** The relay's input: the camera, its address (with credentials) on stdin. */
const LIVE_INPUT_ARGS = ['-hide_banner', '-nostdin', '-loglevel', 'error', ...cameraInputArgs()];

interface Relay {
  proc: ManagedProcess | null;
  linger: NodeJS.Timeout | null;
  stopped: boolean;
}

/**
 * Live video on demand: when a player attaches to a camera's stream on this process's media server
 * and nobody publishes it, one ffmpeg relays the camera (its own RTSP session, stream copy) until
 * the last player has been gone for a while. Nobody watching costs nothing; the supervised pull
 * that records and checks the camera never restarts for a viewer.
 */
export class LiveRelay {
  private readonly relays = new Map<string, Relay>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly d: {
      media: MediaServer;
      cameras: CameraRegistry;
      processes: ProcessSupervisor;
      networkPolicy: NetworkPolicy;
      log: Logger;
      ffmpegPath: string;
      ioTimeoutMs: number;
      secret: string;
      /** A relay outlives its last player this long, so a reload or a wall re-layout does not reconnect. */
      lingerMs: number;
    },
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = this.d.media.onPlayers((cameraId, players) => {
      if (players > 0) this.want(cameraId);
      else this.release(cameraId);
    });
  }

  /** The output arguments a relay of this camera publishes with (tests push through them too). */
  publishArgs(cameraId: string): string[] {
    return liveOutputArgs(
      `rtmp://127.0.0.1:${this.d.media.info.rtmpPort}`,
      cameraId,
      this.d.secret,
      Date.now(),
    );
  }

  /** Cameras relayed right now. */
  active(): string[] {
    return [...this.relays.keys()];
  }

  private want(cameraId: string): void {
    const relay = this.relays.get(cameraId);
    if (relay) {
      if (relay.linger) clearTimeout(relay.linger);
      relay.linger = null;
      return;
    }
    // Someone else (a test push, another relay of this process) already publishes it.
    if (this.d.media.isPublishing(cameraId)) return;
    const fresh: Relay = { proc: null, linger: null, stopped: false };
    this.relays.set(cameraId, fresh);
    void this.run(cameraId, fresh);
  }

  private release(cameraId: string): void {
    const relay = this.relays.get(cameraId);
    if (!relay || relay.linger) return;
    relay.linger = setTimeout(() => {
      if (this.d.media.players(cameraId) > 0) {
        relay.linger = null;
        return;
      }
      void this.end(cameraId, relay);
    }, this.d.lingerMs);
  }

  private async run(cameraId: string, relay: Relay): Promise<void> {
    while (!relay.stopped) {
      const row = await this.d.cameras.getRow(systemActor, cameraId).catch(() => null);
      // Gone, stopped, or published by someone else meanwhile.
      if (!row || relay.stopped || this.d.media.isPublishing(cameraId)) break;
      const url = this.d.cameras.pullUrl(row);
      const refused = await checkStoredStream(this.d.networkPolicy, url).then(
        () => null,
        (err: Error) => err.message,
      );
      if (refused !== null) {
        this.d.log.warn({ camera: cameraId, refused }, 'live relay refused by the camera network policy');
        break;
      }
      relay.proc = this.d.processes.spawn(
        `live:${cameraId}`,
        this.d.ffmpegPath,
        [...LIVE_INPUT_ARGS, ...this.publishArgs(cameraId)],
        { input: pullInputList(url, this.d.ioTimeoutMs) },
      );
      this.d.log.debug({ camera: cameraId }, 'live relay started');
      relay.proc.stdout.resume();
      relay.proc.stderr.resume();
      const exit = await relay.proc.exited;
      relay.proc = null;
      if (relay.stopped) break;
      this.d.log.debug({ camera: cameraId, code: exit.code }, 'live relay ended; retrying');
      await new Promise((r) => setTimeout(r, RETRY_MS));
      if (this.d.media.players(cameraId) === 0) break;
    }
    if (this.relays.get(cameraId) === relay) this.relays.delete(cameraId);
  }

  private async end(cameraId: string, relay: Relay): Promise<void> {
    relay.stopped = true;
    if (relay.linger) clearTimeout(relay.linger);
    if (this.relays.get(cameraId) === relay) this.relays.delete(cameraId);
    await relay.proc?.stop();
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.all([...this.relays].map(([id, r]) => this.end(id, r)));
  }
}

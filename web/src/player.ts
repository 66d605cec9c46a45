import mpegts from 'mpegts.js';
import type { Api } from './api.js';

/**
 * Live FLV in a <video> with mpegts.js over WebSocket-FLV (one connection, no HTTP chunk limits).
 * URLs are signed and short-lived, so every (re)connect asks the API for a fresh one.
 */
export class LivePlayer {
  private player: mpegts.Player | null = null;
  private retry: number | null = null;
  private closed = false;
  /** Player and media errors seen (decoding errors among them); reconnects follow each. */
  errors = 0;

  constructor(
    private readonly api: Api,
    private readonly cameraId: string,
    readonly video: HTMLVideoElement,
    private readonly onError: (errors: number) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    if (this.closed) return;
    this.stopPlayer();
    try {
      const urls = await this.api.live(this.cameraId);
      const player = mpegts.createPlayer(
        { type: 'flv', isLive: true, hasAudio: false, url: urls.wsFlvUrl },
        {
          enableStashBuffer: false,
          liveBufferLatencyChasing: true,
          liveBufferLatencyMaxLatency: 1.5,
          liveBufferLatencyMinRemain: 0.3,
        },
      );
      player.on(mpegts.Events.ERROR, () => {
        this.onError(++this.errors);
        this.later();
      });
      player.on(mpegts.Events.LOADING_COMPLETE, () => this.later());
      player.attachMediaElement(this.video);
      player.load();
      this.video.muted = true;
      void this.video.play().catch(() => undefined);
      this.player = player;
    } catch {
      this.later();
    }
  }

  private later(): void {
    if (this.closed || this.retry !== null) return;
    this.retry = window.setTimeout(() => {
      this.retry = null;
      void this.start();
    }, 3000);
  }

  private stopPlayer(): void {
    if (!this.player) return;
    this.player.destroy();
    this.player = null;
  }

  close(): void {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.stopPlayer();
  }
}

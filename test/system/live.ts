import { io, type Socket } from 'socket.io-client';
import type { Alert } from './api.js';

export interface LiveEvent {
  name: string;
  seq: number;
  /** When this client received it (ms since the epoch). */
  receivedAt: number;
  alert?: Alert;
  cameraId?: string;
  status?: string;
}

/** A socket.io client of /live, as the public contract describes it, recording every event. */
export class LiveClient {
  readonly events: LiveEvent[] = [];

  private constructor(private readonly socket: Socket) {
    socket.onAny((name: string, payload: Omit<LiveEvent, 'name' | 'receivedAt'>) =>
      this.events.push({ ...payload, name, receivedAt: Date.now() }),
    );
  }

  static async connect(baseUrl: string, token: string): Promise<LiveClient> {
    const socket = io(baseUrl, {
      path: '/live',
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
    });
    const client = new LiveClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return client;
  }

  async subscribe(target: { siteId?: string; batchId?: string }): Promise<{ ok: boolean; error?: string }> {
    return (await this.socket.timeout(10_000).emitWithAck('subscribe', target)) as {
      ok: boolean;
      error?: string;
    };
  }

  close(): void {
    this.socket.close();
  }
}

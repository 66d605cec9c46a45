import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type express from 'express';
import type { Actor, Role } from '../access/actor.js';
import { mayViewUnit } from '../alerts/visibility.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CameraRegistry } from '../ingest/cameras.js';
import type { Clock } from '../platform/clock.js';
import type { Db } from '../platform/db.js';
import { DomainError, ForbiddenError, NotFoundError, UnavailableError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { LIVE_APP } from './live-media-server.js';

/** Where browsers fetch live FLV: through the API, which checks the signature before any byte. */
export const MEDIA_PREFIX = '/media/live/';
const MEDIA_PATH = /^\/media\/live\/([0-9a-f-]{36})\.flv$/;

export interface LiveUrls {
  flvUrl: string;
  wsFlvUrl: string;
  expiresAt: string;
}

/**
 * Signed, short-lived live URLs and the gate in front of the media server. A URL is bound to a
 * camera, a user and an expiry by HMAC; at play time the user must still be allowed to watch.
 * Anything else gets 403 and no media (node-media-server's own sign check would answer 200).
 */
export class LiveView {
  constructor(
    private readonly deps: {
      db: Db;
      cameras: CameraRegistry;
      audit: AuditLog;
      clock: Clock;
      log: Logger;
      key: Buffer;
      ttlSeconds: number;
      /** Base URL of the media server's HTTP-FLV side, or null when none is reachable. */
      mediaUrl: () => string | null;
    },
  ) {}

  sign(cameraId: string, userId: string, exp: number): string {
    return createHmac('sha256', this.deps.key).update(`${cameraId}.${userId}.${exp}`).digest('base64url');
  }

  async urls(actor: Actor, cameraId: string, base: string): Promise<LiveUrls> {
    await this.checkMayWatch(actor, cameraId);
    const exp = Math.floor(this.deps.clock.now().getTime() / 1000) + this.deps.ttlSeconds;
    const query = `uid=${encodeURIComponent(actor.userId)}&exp=${exp}&sig=${this.sign(cameraId, actor.userId, exp)}`;
    const path = `${MEDIA_PREFIX}${cameraId}.flv?${query}`;
    await this.deps.audit.record(actor, {
      action: 'camera.live_view',
      subjectType: 'camera',
      subjectId: cameraId,
      details: { expiresAt: new Date(exp * 1000).toISOString() },
    });
    return {
      flvUrl: `${base}${path}`,
      wsFlvUrl: `${base.replace(/^http/, 'ws')}${path}`,
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  /** 404 for cameras the actor cannot see; 403 for platform viewers of a confidential unit. */
  private async checkMayWatch(actor: Actor, cameraId: string): Promise<void> {
    const row = await this.deps.cameras.getRow(actor, cameraId);
    const [unit] = await this.deps.db.query<{ id: string; confidential: boolean }>(
      'SELECT id, confidential FROM units WHERE id = $1',
      [row.unit_id],
    );
    if (!unit || !mayViewUnit(actor, unit))
      throw new ForbiddenError("a confidential unit's live video is not shown outside the unit");
  }

  /** Checks a media request's signature and that its user may still watch; throws 403 otherwise. */
  async verify(url: string): Promise<string> {
    const parsed = new URL(url, 'http://x');
    const m = MEDIA_PATH.exec(parsed.pathname);
    if (!m) throw new NotFoundError('stream');
    const cameraId = m[1]!;
    const uid = parsed.searchParams.get('uid') ?? '';
    const exp = Number(parsed.searchParams.get('exp'));
    const sig = Buffer.from(parsed.searchParams.get('sig') ?? '');
    const expected = Buffer.from(this.sign(cameraId, uid, exp));
    if (!Number.isInteger(exp) || sig.length !== expected.length || !timingSafeEqual(sig, expected))
      throw new ForbiddenError('bad live URL signature');
    if (exp * 1000 <= this.deps.clock.now().getTime()) throw new ForbiddenError('live URL has expired');
    const [user] = await this.deps.db.query<{
      id: string;
      username: string;
      role: Role;
      unit_id: string | null;
    }>('SELECT id, username, role, unit_id FROM users WHERE id = $1', [uid]);
    if (!user) throw new ForbiddenError('live URL user no longer exists');
    const actor: Actor = { userId: user.id, username: user.username, role: user.role, unitId: user.unit_id };
    await this.checkMayWatch(actor, cameraId).catch((err: unknown) => {
      throw err instanceof ForbiddenError ? err : new ForbiddenError('user may no longer watch this camera');
    });
    return cameraId;
  }

  private upstream(cameraId: string): URL {
    const media = this.deps.mediaUrl();
    if (!media) throw new UnavailableError('no media server is reachable from this process');
    return new URL(`/${LIVE_APP}/${cameraId}.flv`, media);
  }

  /** HTTP-FLV: GET /media/live/<camera>.flv?uid&exp&sig, streamed from the media server. */
  mount(app: express.Express): void {
    app.get(/^\/media\/live\/[^/]+\.flv$/, async (req, res) => {
      let target: URL;
      try {
        target = this.upstream(await this.verify(req.originalUrl));
      } catch (err) {
        const e = err instanceof DomainError ? err : new ForbiddenError();
        res.status(e.status).json({ error: { code: e.code, message: e.message } });
        return;
      }
      const up = http.get(target, (upRes) => {
        res.status(upRes.statusCode ?? 502);
        res.setHeader('content-type', 'video/x-flv');
        res.setHeader('cache-control', 'no-store');
        upRes.pipe(res);
      });
      up.on('error', (err) => {
        this.deps.log.warn({ err: err.message }, 'media server unreachable');
        if (!res.headersSent)
          res.status(503).json({ error: { code: 'unavailable', message: 'media server unreachable' } });
        else res.destroy();
      });
      res.on('close', () => up.destroy());
    });
  }

  /** WS-FLV: the same URL over a WebSocket upgrade, tunnelled to the media server after the check. */
  attach(server: http.Server): void {
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!req.url?.startsWith(MEDIA_PREFIX)) return;
      socket.on('error', () => socket.destroy());
      this.verify(req.url)
        .then((cameraId) => this.tunnel(req, socket, head, this.upstream(cameraId)))
        .catch((err: unknown) => {
          const status = err instanceof DomainError ? err.status : 403;
          socket.end(
            `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
          );
        });
    });
  }

  private tunnel(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: URL): void {
    const up = http.request(target, { headers: { ...req.headers, host: target.host } });
    up.on('upgrade', (upRes, upSocket, upHead) => {
      const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}`];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2)
        lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      upSocket.pipe(socket).pipe(upSocket);
      upSocket.on('error', () => socket.destroy());
      socket.on('close', () => upSocket.destroy());
      upSocket.on('close', () => socket.destroy());
    });
    up.on('response', (res) => {
      socket.end(`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\nConnection: close\r\n\r\n`);
      res.resume();
    });
    up.on('error', () =>
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'),
    );
    up.end();
  }
}

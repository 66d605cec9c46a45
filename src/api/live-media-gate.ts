import http from 'node:http';
import type { Duplex } from 'node:stream';
import type express from 'express';
import { MEDIA_PREFIX, type LiveView } from '../live/live-view.js';
import { DomainError, ForbiddenError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';

/**
 * The HTTP side of live video: the API's /media/live/<camera>.flv checks the signed URL (LiveView)
 * before any byte, then streams from the media server, as HTTP-FLV or over a WebSocket upgrade.
 */
export function mountLiveMedia(app: express.Express, view: LiveView, log: Logger): void {
  app.get(/^\/media\/live\/[^/]+\.flv$/, async (req, res) => {
    let target: URL;
    try {
      target = view.upstream(await view.verify(req.originalUrl));
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
      log.warn({ err: err.message }, 'media server unreachable');
      if (!res.headersSent)
        res.status(503).json({ error: { code: 'unavailable', message: 'media server unreachable' } });
      else res.destroy();
    });
    res.on('close', () => up.destroy());
  });
}

/** WS-FLV: the same URL over a WebSocket upgrade, tunnelled to the media server after the check. */
export function attachLiveMedia(server: http.Server, view: LiveView): void {
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith(MEDIA_PREFIX)) return;
    socket.on('error', () => socket.destroy());
    view
      .verify(req.url)
      .then((cameraId) => tunnel(req, socket, head, view.upstream(cameraId)))
      .catch((err: unknown) => {
        const status = err instanceof DomainError ? err.status : 403;
        socket.end(
          `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
      });
  });
}

function tunnel(req: http.IncomingMessage, socket: Duplex, head: Buffer, target: URL): void {
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

import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startLab, type Lab } from '../../lab/index.js';
import { startTestService, type TestService } from '../support/service.js';

/** Polls until `fn` returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  timeoutMs: number,
  what = 'condition',
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A TCP server that accepts connections and never answers: a device that hangs. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** An HTTP proxy to a lab ONVIF device that rewrites its answers (e.g. to offer JPEG only). */
export async function rewritingProxy(
  targetPort: number,
  rewrite: (body: string) => string,
): Promise<{ port: number; close(): Promise<void> }> {
  const srv = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const upstream = await fetch(`http://127.0.0.1:${targetPort}${req.url}`, {
      method: req.method,
      headers: { 'content-type': String(req.headers['content-type'] ?? 'application/soap+xml') },
      body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
    });
    const text = rewrite(await upstream.text()).replaceAll(
      `:${targetPort}/`,
      `:${(srv.address() as AddressInfo).port}/`,
    );
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/xml' });
    res.end(text);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

/**
 * One 320×180 scale-mode lab camera and the service with the api and ingest roles, on floors that
 * picture passes and quick health polls; `env` overrides or adds settings.
 */
export async function startSmallCameraService(
  env: Record<string, string> = {},
): Promise<{ lab: Lab; svc: TestService }> {
  const lab = await startLab({ cameras: 1, mode: 'scale', width: 320, height: 180 });
  const svc = await startTestService({
    ROLES: 'api,ingest',
    FLOOR_MIN_HEIGHT: '120',
    FLOOR_MIN_FPS: '10',
    FLOOR_MIN_KBPS: '20',
    INGEST_POLL_MS: '500',
    HEALTH_PERSIST_MS: '500',
    ...env,
  }).catch(async (err: unknown) => {
    await lab.stop();
    throw err;
  });
  return { lab, svc };
}

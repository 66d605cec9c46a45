import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

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

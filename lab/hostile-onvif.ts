import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeNow, listenOn } from './http-server.js';

/**
 * A hostile ONVIF device for security tests: it stands in front of a real (lab) device and passes
 * every request through, except the actions it is told to answer itself, with an address of its
 * choosing (file://, the service's own ports), a reply of hundreds of megabytes, or garbage.
 */
export type HostileAnswer =
  | { kind: 'uri'; uri: string }
  /** A syntactically fine reply of `bytes` bytes, streamed. */
  | { kind: 'huge'; bytes: number }
  /** Bytes that are not XML at all. */
  | { kind: 'garbage' }
  /** A well-formed SOAP envelope whose response element is empty (fields the client expects missing). */
  | { kind: 'hollow' }
  /** `xmlns` over and over without `=`: quadratic for the namespace-stripping regex of the `onvif` package. */
  | { kind: 'xmlns_bomb'; bytes: number };

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
  'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:trt="http://www.onvif.org/ver10/media/wsdl"><s:Body>';
const ENVELOPE_CLOSE = '</s:Body></s:Envelope>';

const uriReply = (action: string, uri: string) =>
  `${ENVELOPE_OPEN}<trt:${action}Response><trt:MediaUri><tt:Uri>${uri.replace(/&/g, '&amp;').replace(/</g, '&lt;')}` +
  `</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>` +
  `<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:${action}Response>${ENVELOPE_CLOSE}`;

export class HostileOnvifDevice {
  private server: Server | null = null;
  /** Bytes of hostile replies written so far (how much a client let through before it hung up). */
  bytesSent = 0;
  port = 0;

  constructor(
    /** The real device every other request goes to. */
    private readonly upstream: { host: string; port: number },
    /** Action name (GetStreamUri, GetDeviceInformation, ...) → what to answer instead. */
    readonly answers: Map<string, HostileAnswer> = new Map(),
  ) {}

  get host(): string {
    return '127.0.0.1';
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    this.port = await listenOn(server, 0, this.host);
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await closeNow(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const action = /<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)/.exec(body.toString('utf8'))?.[1] ?? '';
    const answer = this.answers.get(action);
    if (!answer) return this.forward(req, body, res);
    res.writeHead(200, { 'content-type': 'application/soap+xml; charset=utf-8' });
    switch (answer.kind) {
      case 'uri':
        return this.end(res, uriReply(action, answer.uri));
      case 'garbage':
        return this.end(res, '\u0000\u00ff<<not xml at all>>\r\n}{'.repeat(50));
      case 'hollow':
        return this.end(res, `${ENVELOPE_OPEN}<trt:${action}Response/>${ENVELOPE_CLOSE}`);
      case 'huge':
        return this.stream(res, answer.bytes, `<tt:Name>${'x'.repeat(65_000)}</tt:Name>`);
      case 'xmlns_bomb':
        return this.stream(res, answer.bytes, 'xmlns'.repeat(13_000));
    }
  }

  private end(res: ServerResponse, text: string): void {
    this.bytesSent += Buffer.byteLength(text);
    res.end(text);
  }

  /** Writes `bytes` of the filler inside an envelope, as fast as the client reads, until it hangs up. */
  private async stream(res: ServerResponse, bytes: number, filler: string): Promise<void> {
    const chunk = Buffer.from(filler);
    res.write(`${ENVELOPE_OPEN}<tds:GetDeviceInformationResponse>`);
    for (let sent = 0; sent < bytes && !res.destroyed; sent += chunk.length) {
      this.bytesSent += chunk.length;
      if (!res.write(chunk))
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
    }
    if (!res.destroyed) res.end(`</tds:GetDeviceInformationResponse>${ENVELOPE_CLOSE}`);
  }

  private forward(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const up = request(
      {
        host: this.upstream.host,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: `${this.upstream.host}:${this.upstream.port}` },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    up.end(body);
  }
}

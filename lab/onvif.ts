import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeNow, listenOn } from './http-server.js';
import { XMLParser } from 'fast-xml-parser';
import { PullPoints, type AnalyticsState } from './onvif-events.js';

/** What the ONVIF device service needs to know about its camera, read on every request. */
export interface OnvifCameraInfo {
  id: string;
  name: string;
  username: string;
  /** The password the camera currently accepts (a wrong_credentials fault changes it). */
  acceptedPassword(): string;
  /** Milliseconds the camera clock is ahead of true time. */
  skewMs(): number;
  rtspPort(): number;
  width: number;
  height: number;
  subWidth: number;
  subHeight: number;
  fps: number;
  /** The main stream's bitrate limit as its encoder is set now (a low_bitrate fault lowers it). */
  mainKbps(): number;
  subKbps: number;
  /** What the camera's own analytics (tamper detector, scene change) see now. */
  analytics(): AnalyticsState;
  hardware: string;
  location: string;
  /** A JPEG of the current picture of the given stream. */
  snapshot(stream: 'main' | 'sub'): Promise<Buffer>;
}

const NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" ' +
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ' +
  'xmlns:ter="http://www.onvif.org/ver10/error" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" ' +
  'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:wsa5="http://www.w3.org/2005/08/addressing" ' +
  'xmlns:tns1="http://www.onvif.org/ver10/topics"';

const parser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, attributeNamePrefix: '@' });

function envelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NS}><s:Body>${body}</s:Body></s:Envelope>`;
}

function fault(code: 'Sender' | 'Receiver', subcode: string, reason: string): string {
  return envelope(
    `<s:Fault><s:Code><s:Value>s:${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${reason}</s:Text></s:Reason></s:Fault>`,
  );
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function dateTimeXml(tag: string, d: Date, offsetMs: number): string {
  const t = new Date(d.getTime() + offsetMs);
  return (
    `<tt:${tag}><tt:Time><tt:Hour>${t.getUTCHours()}</tt:Hour><tt:Minute>${t.getUTCMinutes()}</tt:Minute>` +
    `<tt:Second>${t.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${t.getUTCFullYear()}</tt:Year>` +
    `<tt:Month>${t.getUTCMonth() + 1}</tt:Month><tt:Day>${t.getUTCDate()}</tt:Day></tt:Date></tt:${tag}>`
  );
}

/** Checks a WS-Security UsernameToken: PasswordDigest = Base64(SHA1(nonce + created + password)). */
export function checkUsernameToken(envelopeObj: unknown, username: string, password: string): boolean {
  const token = dig(envelopeObj, ['Envelope', 'Header', 'Security', 'UsernameToken']);
  if (!token || typeof token !== 'object') return false;
  const t = token as Record<string, unknown>;
  if (text(t.Username) !== username) return false;
  const pwNode = t.Password;
  const pw = text(pwNode);
  const type =
    pwNode && typeof pwNode === 'object' ? String((pwNode as Record<string, unknown>)['@Type']) : '';
  if (type.endsWith('#PasswordText')) return pw === password;
  const nonce = Buffer.from(text(t.Nonce), 'base64');
  const created = text(t.Created);
  const expected = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
  return pw === expected;
}

function dig(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function text(node: unknown): string {
  if (node === undefined || node === null) return '';
  if (typeof node === 'object') return String((node as Record<string, unknown>)['#text'] ?? '');
  return String(node);
}

/** Actions a real camera answers without credentials (ONVIF Core: pre-auth allowed). */
const UNAUTHENTICATED = new Set(['GetSystemDateAndTime']);

export class OnvifDevice {
  private server: Server | null = null;
  port = 0;
  private readonly events: PullPoints;

  constructor(
    private readonly cam: OnvifCameraInfo,
    private readonly host = '127.0.0.1',
  ) {
    this.events = new PullPoints(
      () => cam.analytics(),
      () => `http://${this.host}:${this.port}/onvif`,
    );
  }

  get xaddr(): string {
    return `http://${this.host}:${this.port}/onvif/device_service`;
  }

  get snapshotUrl(): string {
    return `http://${this.host}:${this.port}/onvif/snapshot/main.jpg`;
  }

  /** Listens on `port` (0 = any free one; on restart the previous port is reused). */
  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e));
      });
    });
    this.port = await listenOn(server, port, this.host);
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await closeNow(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const snap = /^\/onvif\/snapshot\/(main|sub)\.jpg$/.exec(url.pathname);
    if (req.method === 'GET' && snap) {
      try {
        const jpeg = await this.cam.snapshot(snap[1] as 'main' | 'sub');
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length });
        res.end(jpeg);
      } catch (e) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end(`snapshot unavailable: ${String(e)}`);
      }
      return;
    }
    if (req.method !== 'POST' || !url.pathname.startsWith('/onvif/')) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    let action = '';
    let request: Record<string, unknown> = {};
    try {
      parsed = parser.parse(body);
      const bodyNode = dig(parsed, ['Envelope', 'Body']) as Record<string, unknown> | undefined;
      action = Object.keys(bodyNode ?? {}).find((k) => !k.startsWith('@')) ?? '';
      const node = bodyNode?.[action];
      request = node && typeof node === 'object' ? (node as Record<string, unknown>) : {};
    } catch {
      action = '';
    }
    const send = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
      res.end(xml);
    };
    if (!action) {
      send(400, fault('Sender', 'ter:WellFormed', 'Not a SOAP envelope'));
      return;
    }
    if (!UNAUTHENTICATED.has(action)) {
      if (!checkUsernameToken(parsed, this.cam.username, this.cam.acceptedPassword())) {
        send(400, fault('Sender', 'ter:NotAuthorized', 'Sender not Authorized'));
        return;
      }
    }
    const reply = (await this.answerEvents(action, url.pathname)) ?? this.answer(action, request);
    if (reply === null) {
      send(400, fault('Receiver', 'ter:ActionNotSupported', `Optional Action ${action} not implemented`));
      return;
    }
    send(200, envelope(reply));
  }

  /** The event service (pull points); null for any other action. */
  private answerEvents(action: string, path: string): Promise<string | null> | null {
    switch (action) {
      case 'GetEventProperties':
        return Promise.resolve(
          `<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>` +
            `<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><wstop:TopicSet xmlns:wstop="http://docs.oasis-open.org/wsn/t-1">` +
            `<tns1:RuleEngine><TamperDetector><Tamper wstop:topic="true"/></TamperDetector></tns1:RuleEngine>` +
            `<tns1:VideoSource><GlobalSceneChange><AnalyticsService wstop:topic="true"/></GlobalSceneChange></tns1:VideoSource>` +
            `</wstop:TopicSet></tev:GetEventPropertiesResponse>`,
        );
      case 'CreatePullPointSubscription':
        return Promise.resolve(this.events.create());
      case 'PullMessages':
        return this.events.pull(path);
      case 'Renew':
        return Promise.resolve(this.events.renew(path));
      case 'Unsubscribe':
        return Promise.resolve(this.events.unsubscribe(path));
      default:
        return null;
    }
  }

  private answer(action: string, request: Record<string, unknown>): string | null {
    const c = this.cam;
    const base = `http://${this.host}:${this.port}/onvif`;
    const profile = (token: string) => (token === 'sub' ? 'sub' : 'main');
    switch (action) {
      case 'GetSystemDateAndTime': {
        const now = new Date();
        const skew = c.skewMs();
        return (
          `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType>` +
          `<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone>` +
          dateTimeXml('UTCDateTime', now, skew) +
          dateTimeXml('LocalDateTime', now, skew + 8 * 3600_000) +
          `</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
        );
      }
      case 'GetDeviceInformation':
        return (
          `<tds:GetDeviceInformationResponse><tds:Manufacturer>ExamLab</tds:Manufacturer>` +
          `<tds:Model>${xmlEscape(c.hardware)}</tds:Model><tds:FirmwareVersion>1.0.0</tds:FirmwareVersion>` +
          `<tds:SerialNumber>LAB-${xmlEscape(c.id)}</tds:SerialNumber><tds:HardwareId>${xmlEscape(c.hardware)}` +
          `</tds:HardwareId></tds:GetDeviceInformationResponse>`
        );
      case 'GetCapabilities':
        return (
          `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
          `<tt:Device><tt:XAddr>${base}/device_service</tt:XAddr></tt:Device>` +
          `<tt:Events><tt:XAddr>${base}/event_service</tt:XAddr><tt:WSSubscriptionPolicySupport>false` +
          `</tt:WSSubscriptionPolicySupport><tt:WSPullPointSupport>true</tt:WSPullPointSupport></tt:Events>` +
          `<tt:Media><tt:XAddr>${base}/media_service</tt:XAddr><tt:StreamingCapabilities>` +
          `<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>` +
          `</tt:StreamingCapabilities></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>`
        );
      case 'GetServices':
        return (
          `<tds:GetServicesResponse>` +
          `<tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace>` +
          `<tds:XAddr>${base}/device_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor>` +
          `</tds:Version></tds:Service>` +
          `<tds:Service><tds:Namespace>http://www.onvif.org/ver10/events/wsdl</tds:Namespace>` +
          `<tds:XAddr>${base}/event_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor>` +
          `</tds:Version></tds:Service>` +
          `<tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace>` +
          `<tds:XAddr>${base}/media_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor>` +
          `</tds:Version></tds:Service></tds:GetServicesResponse>`
        );
      case 'GetVideoSources':
        return (
          `<trt:GetVideoSourcesResponse><trt:VideoSources token="VideoSource_1"><tt:Framerate>${c.fps}</tt:Framerate>` +
          `<tt:Resolution><tt:Width>${c.width}</tt:Width><tt:Height>${c.height}</tt:Height></tt:Resolution>` +
          `</trt:VideoSources></trt:GetVideoSourcesResponse>`
        );
      case 'GetProfiles':
        return `<trt:GetProfilesResponse>${this.profileXml('main')}${this.profileXml('sub')}</trt:GetProfilesResponse>`;
      case 'GetVideoEncoderConfiguration': {
        const token = text(request.ConfigurationToken);
        if (token !== 'VideoEncoder_main' && token !== 'VideoEncoder_sub') return null;
        return `<trt:GetVideoEncoderConfigurationResponse>${this.encoderXml(token === 'VideoEncoder_main' ? 'main' : 'sub', 'Configuration')}</trt:GetVideoEncoderConfigurationResponse>`;
      }
      case 'GetVideoEncoderConfigurations':
        return `<trt:GetVideoEncoderConfigurationsResponse>${this.encoderXml('main', 'Configurations')}${this.encoderXml('sub', 'Configurations')}</trt:GetVideoEncoderConfigurationsResponse>`;
      case 'GetProfile':
        return `<trt:GetProfileResponse>${this.profileXml(profile(text(request.ProfileToken)), 'Profile')}</trt:GetProfileResponse>`;
      case 'GetStreamUri': {
        const p = profile(text(request.ProfileToken));
        return (
          `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://${this.host}:${c.rtspPort()}/${c.id}/${p}</tt:Uri>` +
          `<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>` +
          `<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`
        );
      }
      case 'GetSnapshotUri': {
        const p = profile(text(request.ProfileToken));
        return (
          `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${base}/snapshot/${p}.jpg</tt:Uri>` +
          `<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>` +
          `<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`
        );
      }
      case 'GetScopes':
        return (
          `<tds:GetScopesResponse>` +
          scopes(c)
            .map(
              (s) =>
                `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${s}</tt:ScopeItem></tds:Scopes>`,
            )
            .join('') +
          `</tds:GetScopesResponse>`
        );
      case 'GetHostname':
        return `<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP><tt:Name>${xmlEscape(c.id)}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>`;
      default:
        return null;
    }
  }

  private profileXml(kind: 'main' | 'sub', tag = 'Profiles'): string {
    const c = this.cam;
    return (
      `<trt:${tag} token="${kind}" fixed="true"><tt:Name>${kind === 'main' ? 'MainStream' : 'SubStream'}</tt:Name>` +
      `<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSource</tt:Name><tt:UseCount>2</tt:UseCount>` +
      `<tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x="0" y="0" width="${c.width}" height="${c.height}"/>` +
      `</tt:VideoSourceConfiguration>${this.encoderXml(kind, 'VideoEncoderConfiguration')}</trt:${tag}>`
    );
  }

  /** A stream's encoder settings, as GetProfiles and GetVideoEncoderConfiguration answer them. */
  private encoderXml(kind: 'main' | 'sub', tag: string): string {
    const c = this.cam;
    const [w, h, kbps] =
      kind === 'main' ? [c.width, c.height, c.mainKbps()] : [c.subWidth, c.subHeight, c.subKbps];
    const ns = tag === 'VideoEncoderConfiguration' ? 'tt' : 'trt';
    return (
      `<${ns}:${tag} token="VideoEncoder_${kind}"><tt:Name>${kind}</tt:Name><tt:UseCount>1</tt:UseCount>` +
      `<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${w}</tt:Width><tt:Height>${h}</tt:Height></tt:Resolution>` +
      `<tt:Quality>4</tt:Quality><tt:RateControl><tt:FrameRateLimit>${c.fps}</tt:FrameRateLimit>` +
      `<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${kbps}</tt:BitrateLimit></tt:RateControl>` +
      `<tt:H264><tt:GovLength>${c.fps * 2}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
      `<tt:SessionTimeout>PT60S</tt:SessionTimeout></${ns}:${tag}>`
    );
  }
}

export function scopes(c: Pick<OnvifCameraInfo, 'name' | 'hardware' | 'location'>): string[] {
  const enc = (s: string) => encodeURIComponent(s);
  return [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/Profile/Streaming',
    `onvif://www.onvif.org/name/${enc(c.name)}`,
    `onvif://www.onvif.org/hardware/${enc(c.hardware)}`,
    `onvif://www.onvif.org/location/${c.location.split('/').map(enc).join('/')}`,
  ];
}

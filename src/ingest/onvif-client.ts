import http from 'node:http';
import type { Duplex } from 'node:stream';
import onvif from 'onvif';
import type { Cam as CamType, CamOptions } from 'onvif';
import { DeviceError } from '../platform/errors.js';
import { HTTP_SCHEMES, parseCameraUrl } from './camera-address.js';
import { parseEncoderConfiguration, parseNotifications, type CameraNotification } from './onvif-replies.js';
import type { EncoderSettings } from './picture-watch.js';

const { Cam, Discovery } = onvif as unknown as { Cam: typeof CamType; Discovery: typeof onvif.Discovery };

export interface OnvifTarget {
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface DeviceInfo {
  manufacturer: string | null;
  model: string | null;
  firmwareVersion: string | null;
  serialNumber: string | null;
  hardwareId: string | null;
}

export interface OnvifProfile {
  token: string;
  /** Token of the profile's video encoder configuration. */
  encoderToken: string | null;
  name: string;
  encoding: string;
  width: number;
  height: number;
  fps: number | null;
}

/** What onboarding reads from a device. */
export interface OnvifDescription {
  device: DeviceInfo;
  /** Camera time minus ours, ms (the device reports whole seconds: ±0.5 s). */
  clockSkewMs: number;
  profiles: OnvifProfile[];
}

export interface DiscoveredDevice {
  endpoint: string;
  xaddr: string;
  xaddrs: string[];
  name: string | null;
  hardware: string | null;
  location: string | null;
  scopes: string[];
}

/** A connected ONVIF session: the `onvif` package's Cam behind our error codes and deadlines. */
export class OnvifSession {
  constructor(
    private readonly cam: CamType,
    private readonly target: OnvifTarget,
    private readonly timeoutMs: number,
    private readonly agent: BoundedAgent,
  ) {}

  async describe(): Promise<OnvifDescription> {
    const device = await this.call<Record<string, unknown>>('GetDeviceInformation', (cb) =>
      this.cam.getDeviceInformation(cb),
    );
    const clockSkewMs = await this.clockSkew();
    return {
      device: {
        manufacturer: str(device.manufacturer),
        model: str(device.model),
        firmwareVersion: str(device.firmwareVersion),
        serialNumber: str(device.serialNumber),
        hardwareId: str(device.hardwareId),
      },
      clockSkewMs,
      profiles: this.profiles(),
    };
  }

  /** The media profiles the device listed when the session connected. */
  profiles(): OnvifProfile[] {
    const raw = this.cam.profiles as unknown;
    if (raw !== undefined && !Array.isArray(raw)) throw malformed(this.target, 'GetProfiles');
    return ((raw ?? []) as RawProfile[]).map(toProfile).filter((p): p is OnvifProfile => p !== null);
  }

  /** What the device says its encoder is set to (GetVideoEncoderConfiguration). */
  async encoderSettings(encoderToken: string): Promise<EncoderSettings> {
    const r = await this.call<unknown>('GetVideoEncoderConfiguration', (cb) =>
      this.cam.getVideoEncoderConfiguration(encoderToken, cb),
    );
    const settings = parseEncoderConfiguration(r);
    if (!settings) throw malformed(this.target, 'GetVideoEncoderConfiguration');
    return settings;
  }

  /**
   * Opens a pull-point subscription to the device's events (CreatePullPointSubscription); false
   * when the device has no event service.
   */
  async subscribeEvents(): Promise<boolean> {
    return this.call<unknown>('CreatePullPointSubscription', (cb) =>
      this.cam.createPullPointSubscription(cb),
    ).then(
      () => true,
      (err: unknown) => {
        // A device without an event service refuses the action, or the package trips on its absence.
        if (err instanceof DeviceError && ['onvif_error', 'onvif_malformed_reply'].includes(err.code))
          return false;
        throw err;
      },
    );
  }

  /** Extends the subscription (Renew). */
  async renewEvents(): Promise<void> {
    await this.call<unknown>('Renew', (cb) => this.cam.renew({}, cb));
  }

  /** Messages waiting on the subscription (PullMessages; the device may hold the request a while). */
  async pullEvents(): Promise<CameraNotification[]> {
    const r = await this.call<unknown>(
      'PullMessages',
      (cb) => this.cam.pullMessages({ messageLimit: 20 }, cb),
      PULL_DEADLINE_MS,
    );
    return parseNotifications(r);
  }

  /** Camera clock minus ours, from GetSystemDateAndTime, against the midpoint of the request. */
  async clockSkew(): Promise<number> {
    const before = Date.now();
    const camTime = await this.call<Date>('GetSystemDateAndTime', (cb) => this.cam.getSystemDateAndTime(cb));
    const after = Date.now();
    if (!(camTime instanceof Date) || Number.isNaN(camTime.getTime()))
      throw malformed(this.target, 'GetSystemDateAndTime');
    // Whole seconds from the device: its true time is on average half a second later.
    return Math.round(camTime.getTime() + 500 - (before + after) / 2);
  }

  /** The stream address as the device answers it; the caller checks it (camera-address) before use. */
  async streamUri(profileToken: string): Promise<string> {
    const r = await this.call<{ uri?: unknown }>('GetStreamUri', (cb) =>
      this.cam.getStreamUri({ protocol: 'RTSP', profileToken }, cb),
    );
    if (typeof r?.uri !== 'string' || !r.uri) throw malformed(this.target, 'GetStreamUri');
    return r.uri;
  }

  /** The snapshot address, or null when the device has none (optional in ONVIF Profile S). */
  async snapshotUri(profileToken: string): Promise<string | null> {
    const r = await this.call<{ uri?: unknown }>('GetSnapshotUri', (cb) =>
      this.cam.getSnapshotUri({ profileToken }, cb),
    ).catch((err: unknown) => {
      // A device that cannot be read at all is a failure; one that has no snapshots is not.
      if (err instanceof DeviceError && err.code !== 'onvif_error') throw err;
      return null;
    });
    return typeof r?.uri === 'string' && r.uri ? r.uri : null;
  }

  private call<T>(
    action: string,
    fn: (cb: (err: Error | null, value?: T) => void) => void,
    deadlineMs = this.timeoutMs,
  ): Promise<T> {
    return withDeadline(
      new Promise<T>((resolve, reject) => {
        try {
          fn((err, value) => (err ? reject(err) : resolve(value as T)));
        } catch (err) {
          reject(err);
        }
      }),
      deadlineMs,
      this.target,
      action,
      this.agent,
    );
  }
}

/** PullMessages asks the device to hold the request up to a minute when nothing happens. */
const PULL_DEADLINE_MS = 75_000;

interface RawProfile {
  $?: { token?: string };
  name?: string;
  videoEncoderConfiguration?: {
    $?: { token?: string };
    encoding?: string;
    resolution?: { width?: number; height?: number };
    rateControl?: { frameRateLimit?: number };
  };
}

function toProfile(p: RawProfile): OnvifProfile | null {
  const enc = p.videoEncoderConfiguration;
  if (!p.$?.token || !enc) return null;
  return {
    token: String(p.$.token),
    encoderToken: enc.$?.token ? String(enc.$.token) : null,
    name: String(p.name ?? p.$.token),
    encoding: String(enc.encoding ?? 'unknown'),
    width: Number(enc.resolution?.width ?? 0),
    height: Number(enc.resolution?.height ?? 0),
    fps: enc.rateControl?.frameRateLimit ? Number(enc.rateControl.frameRateLimit) : null,
  };
}

function str(v: unknown): string | null {
  return v === undefined || v === null || v === '' ? null : String(v);
}

/** Longest stretch after `xmlns` without `=` that a reply may have (see ReplyGuard). */
const XMLNS_WINDOW = 256;

/**
 * Vets a device reply chunk by chunk before the `onvif` package sees it: it buffers the whole body
 * and then runs a regular expression over it that is quadratic in runs of `xmlns` without `=`.
 */
export class ReplyGuard {
  private total = 0;
  private tail = '';
  constructor(private readonly maxBytes: number) {}

  /** Why the reply must be refused now, or null. */
  problem(chunk: Buffer): string | null {
    this.total += chunk.length;
    if (this.total > this.maxBytes) return `its reply is larger than ${this.maxBytes} bytes`;
    const text = this.tail + chunk.toString('latin1');
    for (let i = text.indexOf('xmlns'); i >= 0; i = text.indexOf('xmlns', i + 5)) {
      const after = text.slice(i + 5, i + 5 + XMLNS_WINDOW);
      if (after.length === XMLNS_WINDOW && !after.includes('=')) return 'its reply is not well-formed XML';
    }
    this.tail = text.slice(-(XMLNS_WINDOW + 5));
    return null;
  }
}

const REPLY_REFUSED = 'ONVIF_REPLY_REFUSED';

/** An HTTP agent whose sockets refuse a reply (too large, hostile) before any of it is parsed. */
class BoundedAgent extends http.Agent {
  constructor(private readonly maxBytes: number) {
    super({ keepAlive: false });
  }

  override createConnection(...args: Parameters<http.Agent['createConnection']>): Duplex {
    const socket = super.createConnection(...args) as Duplex;
    const guard = new ReplyGuard(this.maxBytes);
    const emit = socket.emit.bind(socket);
    // Filtering 'data' here means the HTTP parser never receives a refused chunk.
    socket.emit = (event: string | symbol, ...rest: unknown[]): boolean => {
      if (event === 'data') {
        const why = guard.problem(rest[0] as Buffer);
        if (why) {
          socket.destroy(Object.assign(new Error(why), { code: REPLY_REFUSED }));
          return false;
        }
      }
      return emit(event, ...rest);
    };
    return socket;
  }

  /** Ends every request in flight (a deadline passed). */
  abort(): void {
    for (const list of Object.values(this.sockets)) for (const s of list ?? []) s.destroy();
  }
}

/** The `onvif` package behind one module: connect with a deadline, and WS-Discovery. */
export class OnvifClient {
  constructor(
    private readonly timeoutMs: number,
    /** Largest reply read from a device, in bytes. */
    private readonly maxReplyBytes = 1_000_000,
  ) {}

  /** Connects (clock, services, profiles); DeviceError with a specific code when it cannot. */
  async connect(target: OnvifTarget): Promise<OnvifSession> {
    const agent = new BoundedAgent(this.maxReplyBytes);
    const options: CamOptions = {
      agent,
      hostname: target.host,
      port: target.port,
      username: target.username,
      password: target.password,
      timeout: this.timeoutMs,
      autoconnect: false,
      // Devices behind NAT advertise service addresses we cannot reach: keep the one we were given.
      preserveAddress: true,
    };
    const cam = new Cam(options);
    await withDeadline(
      new Promise<void>((resolve, reject) => cam.connect((err) => (err ? reject(err) : resolve()))),
      this.timeoutMs * 2,
      target,
      'connect',
      agent,
    );
    return new OnvifSession(cam, target, this.timeoutMs, agent);
  }

  /**
   * WS-Discovery Probe from the given interface (all when unset), collecting answers for timeoutMs.
   * Devices answering several times (several interfaces, repeated probes) are merged by endpoint.
   */
  async discover(opts: { timeoutMs: number; device?: string }): Promise<DiscoveredDevice[]> {
    const found = await new Promise<unknown[]>((resolve, reject) => {
      Discovery.probe({ timeout: opts.timeoutMs, resolve: false, device: opts.device }, (err, devices) => {
        // Malformed answers from other devices arrive as an error list alongside the good ones.
        if (err && !Array.isArray(err)) reject(err);
        else resolve(devices ?? []);
      });
    });
    const byEndpoint = new Map<string, DiscoveredDevice>();
    for (const d of found) {
      const dev = parseProbeMatch(d);
      if (!dev) continue;
      const known = byEndpoint.get(dev.endpoint);
      if (known) known.xaddrs = [...new Set([...known.xaddrs, ...dev.xaddrs])];
      else byEndpoint.set(dev.endpoint, dev);
    }
    return [...byEndpoint.values()].sort((a, b) => a.xaddr.localeCompare(b.xaddr));
  }
}

/** One ProbeMatch (as the `onvif` package parses it with resolve: false) as a discovered device. */
export function parseProbeMatch(raw: unknown): DiscoveredDevice | null {
  const m = (raw as { probeMatches?: { probeMatch?: Record<string, unknown> } })?.probeMatches?.probeMatch;
  if (!m) return null;
  const endpoint = String((m.endpointReference as { address?: unknown } | undefined)?.address ?? '');
  // Only addresses that pass the checks are shown: an operator may copy one into a registration.
  const xaddrs = String(m.XAddrs ?? '')
    .split(/\s+/)
    .filter((x) => validXaddr(x));
  if (!endpoint || xaddrs.length === 0) return null;
  const scopeText =
    typeof m.scopes === 'object' && m.scopes !== null
      ? String((m.scopes as { _?: unknown })._ ?? '')
      : String(m.scopes ?? '');
  const scopes = scopeText.split(/\s+/).filter(Boolean);
  const scope = (kind: string) => {
    const s = scopes.find((x) => x.startsWith(`onvif://www.onvif.org/${kind}/`));
    return s ? decodeURIComponent(s.slice(`onvif://www.onvif.org/${kind}/`.length)) : null;
  };
  return {
    endpoint,
    xaddr: xaddrs[0]!,
    xaddrs,
    name: scope('name'),
    hardware: scope('hardware'),
    location: scope('location'),
    scopes,
  };
}

function validXaddr(x: string): boolean {
  try {
    parseCameraUrl(x, HTTP_SCHEMES, { field: 'XAddrs', from: 'device' });
    return true;
  } catch {
    return false;
  }
}

function malformed(target: { host: string; port: number }, action: string): DeviceError {
  return new DeviceError(
    'onvif_malformed_reply',
    `ONVIF device ${target.host}:${target.port}: the ${action} reply is malformed`,
  );
}

function withDeadline<T>(
  p: Promise<T>,
  ms: number,
  target: OnvifTarget,
  action: string,
  agent: BoundedAgent,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      agent.abort();
      reject(new Error('Network timeout'));
    }, ms);
  });
  return Promise.race([p, deadline])
    .catch((err: unknown) => {
      throw onvifError(err, target, action);
    })
    .finally(() => clearTimeout(timer));
}

/** Maps what the `onvif` package throws to a specific DeviceError (422). */
export function onvifError(
  err: unknown,
  target: { host: string; port: number },
  action: string,
): DeviceError {
  if (err instanceof DeviceError) return err;
  const e = err as { code?: string; message?: string };
  const msg = e?.message ?? String(err);
  const where = `${target.host}:${target.port}`;
  if (e?.code === REPLY_REFUSED)
    return new DeviceError('onvif_reply_refused', `ONVIF device ${where}: ${action} refused: ${msg}`);
  // The package's own slips on replies it did not expect (TypeError, parser errors): a bad reply.
  if (
    err instanceof TypeError ||
    err instanceof RangeError ||
    /Wrong ONVIF SOAP response|Non-whitespace|Unexpected close tag|Unclosed root|Invalid character/i.test(msg)
  )
    return malformed(target, action);
  if (/NotAuthorized|not authori[sz]ed|Unauthorized|authentication failed|\b401\b/i.test(msg))
    return new DeviceError('onvif_auth_refused', `ONVIF device ${where} refused the user name or password`);
  if (
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'].includes(
      e?.code ?? '',
    )
  )
    return new DeviceError('host_unreachable', `ONVIF device ${where} is unreachable (${e.code})`);
  if (/Network timeout|ETIMEDOUT|timed out/i.test(msg) || e?.code === 'ETIMEDOUT')
    return new DeviceError('device_timeout', `ONVIF device ${where} did not answer ${action} in time`);
  // The device's own fault text, without anything that could forge a log line or markup.
  // eslint-disable-next-line no-control-regex
  const fault = msg.replace(/[\u0000-\u001F\u007F-\u009F<>]/g, ' ').slice(0, 200);
  return new DeviceError('onvif_error', `ONVIF device ${where}: ${action} failed: ${fault}`);
}

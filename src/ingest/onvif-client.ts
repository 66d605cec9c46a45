import onvif from 'onvif';
import type { Cam as CamType, CamOptions } from 'onvif';
import { DeviceError } from '../platform/errors.js';

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
  ) {}

  async describe(): Promise<OnvifDescription> {
    const device = await this.call<Record<string, unknown>>('GetDeviceInformation', (cb) =>
      this.cam.getDeviceInformation(cb),
    );
    const clockSkewMs = await this.clockSkew();
    const raw = (this.cam.profiles ?? []) as RawProfile[];
    return {
      device: {
        manufacturer: str(device.manufacturer),
        model: str(device.model),
        firmwareVersion: str(device.firmwareVersion),
        serialNumber: str(device.serialNumber),
        hardwareId: str(device.hardwareId),
      },
      clockSkewMs,
      profiles: raw.map(toProfile).filter((p): p is OnvifProfile => p !== null),
    };
  }

  /** Camera clock minus ours, from GetSystemDateAndTime, against the midpoint of the request. */
  async clockSkew(): Promise<number> {
    const before = Date.now();
    const camTime = await this.call<Date>('GetSystemDateAndTime', (cb) => this.cam.getSystemDateAndTime(cb));
    const after = Date.now();
    // Whole seconds from the device: its true time is on average half a second later.
    return Math.round(camTime.getTime() + 500 - (before + after) / 2);
  }

  streamUri(profileToken: string): Promise<string> {
    return this.call<{ uri: string }>('GetStreamUri', (cb) =>
      this.cam.getStreamUri({ protocol: 'RTSP', profileToken }, cb),
    ).then((r) => r.uri);
  }

  snapshotUri(profileToken: string): Promise<string | null> {
    return this.call<{ uri: string }>('GetSnapshotUri', (cb) =>
      this.cam.getSnapshotUri({ profileToken }, cb),
    ).then(
      (r) => r.uri || null,
      () => null, // snapshots are optional in ONVIF Profile S
    );
  }

  private call<T>(action: string, fn: (cb: (err: Error | null, value?: T) => void) => void): Promise<T> {
    return withDeadline(
      new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T)))),
      this.timeoutMs,
      this.target,
      action,
    );
  }
}

interface RawProfile {
  $?: { token?: string };
  name?: string;
  videoEncoderConfiguration?: {
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

/** The `onvif` package behind one module: connect with a deadline, and WS-Discovery. */
export class OnvifClient {
  constructor(private readonly timeoutMs: number) {}

  /** Connects (clock, services, profiles); DeviceError with a specific code when it cannot. */
  async connect(target: OnvifTarget): Promise<OnvifSession> {
    const options: CamOptions = {
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
    );
    return new OnvifSession(cam, target, this.timeoutMs);
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
  const xaddrs = String(m.XAddrs ?? '')
    .split(/\s+/)
    .filter(Boolean);
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

function withDeadline<T>(p: Promise<T>, ms: number, target: OnvifTarget, action: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('Network timeout')), ms);
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
  return new DeviceError('onvif_error', `ONVIF device ${where}: ${action} failed: ${msg.slice(0, 200)}`);
}

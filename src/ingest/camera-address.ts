import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import os from 'node:os';
import { DeviceError, invalidField, type DomainError } from '../platform/errors.js';

/**
 * Every address the service opens towards a camera (operator input and what devices answer) goes
 * through here: scheme, characters and shape are checked, the URL is rebuilt from its parsed parts,
 * and the host is resolved and checked against the network policy before anything connects.
 */

export type CameraScheme = 'rtsp' | 'rtsps' | 'http' | 'https';
export const STREAM_SCHEMES: readonly CameraScheme[] = ['rtsp', 'rtsps'];
export const HTTP_SCHEMES: readonly CameraScheme[] = ['http', 'https'];

const DEFAULT_PORTS: Record<CameraScheme, number> = { rtsp: 554, rtsps: 322, http: 80, https: 443 };

/** A camera address taken apart; `formatCameraUrl` puts it together again. */
export interface CameraUrl {
  scheme: CameraScheme;
  /** Host name, or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** Path and query, percent-encoded as the URL parser left them. */
  path: string;
  username: string | null;
  password: string | null;
}

/** Who gave an address: the operator (400 naming the field) or a device reply (422 naming the reply). */
export interface AddressSource {
  field: string;
  from: 'operator' | 'device';
}

function refused(source: AddressSource, why: string): DomainError {
  return source.from === 'operator'
    ? invalidField(source.field, why)
    : new DeviceError('device_address_refused', `the device's ${source.field} was refused: ${why}`);
}

// Any C0 control, DEL or C1 control: the URL parser silently drops CR/LF/TAB, a process would not.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Why a bare host (ONVIF `host` field) is not a host name or IP address, or null. */
export function hostProblem(host: string): string | null {
  if (CONTROL.test(host)) return 'must not contain control characters';
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) || HOSTNAME.test(bare)) return null;
  return 'must be a host name or IP address';
}

/** Parses and checks a camera URL; throws a refusal naming the field and the reason (never the input). */
export function parseCameraUrl(
  raw: string,
  allowed: readonly CameraScheme[],
  source: AddressSource,
): CameraUrl {
  if (CONTROL.test(raw)) throw refused(source, 'must not contain control characters');
  if (/\s/.test(raw)) throw refused(source, 'must not contain spaces');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(source, `must be a URL like ${allowed[0]}://host:port/path`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (!(allowed as readonly string[]).includes(scheme))
    throw refused(source, `must use ${allowed.map((s) => `${s}://`).join(' or ')}`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!host) throw refused(source, 'must name a host');
  if (hostProblem(host)) throw refused(source, 'must name a host by name or IP address');
  if (url.hash) throw refused(source, 'must not have a #fragment');
  const decode = (v: string) => {
    const d = decodeURIComponent(v);
    if (CONTROL.test(d)) throw refused(source, 'must not contain control characters');
    return d;
  };
  const s = scheme as CameraScheme;
  return {
    scheme: s,
    host: host.toLowerCase(),
    port: url.port ? Number(url.port) : DEFAULT_PORTS[s],
    path: `${url.pathname}${url.search}`,
    username: url.username ? decode(url.username) : null,
    password: url.password ? decode(url.password) : null,
  };
}

// encodeURIComponent leaves these alone; quotes and backslashes would end an ffconcat string.
const userinfo = (v: string) =>
  encodeURIComponent(v).replace(/['()*!~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The URL rebuilt from its parts, port always explicit; credentials only when asked for (for a
 * process, never for storage).
 */
export function formatCameraUrl(u: CameraUrl, credentials = false): string {
  const auth = credentials && u.username ? `${userinfo(u.username)}:${userinfo(u.password ?? '')}@` : '';
  const host = isIP(u.host) === 6 ? `[${u.host}]` : u.host;

  // Quotes and backslashes in the path are percent-encoded so the string survives any quoting.
  const path = u.path.replace(/['\\]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${u.scheme}://${auth}${host}:${u.port}${path}`;
}

/** A port of this service on a local address (its API, media server, database, Redis, S3). */
export interface OwnPort {
  port: number;
  label: string;
}

export interface NetworkPolicyOptions {
  /** CIDR blocks cameras may live on. */
  networks: string[];
  ownPorts?: OwnPort[];
  /** Deadline of the DNS lookup. */
  lookupTimeoutMs?: number;
}

/** Private ranges (RFC 1918, carrier-grade NAT, IPv6 ULA and link-local) and loopback. */
export const DEFAULT_CAMERA_NETWORKS = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '127.0.0.0/8',
  'fc00::/7',
  'fe80::/10',
  '::1/128',
];

/** Why a CIDR block is not one, or null. */
export function cidrProblem(cidr: string): string | null {
  const [addr, bits, extra] = cidr.split('/');
  const family = isIP(addr ?? '');
  const n = Number(bits);
  if (!family || extra !== undefined || bits === undefined || !/^\d+$/.test(bits))
    return 'must be address/bits';
  return n <= (family === 4 ? 32 : 128) ? null : 'has too many prefix bits';
}

/** Which networks cameras may be on, and which local ports (the service's own) they may never be. */
export class NetworkPolicy {
  private readonly allowed = new BlockList();
  private readonly own = new Map<number, string>();

  constructor(private readonly o: NetworkPolicyOptions) {
    for (const cidr of o.networks) {
      const [addr, bits] = cidr.split('/');
      this.allowed.addSubnet(addr!, Number(bits), isIP(addr!) === 6 ? 'ipv6' : 'ipv4');
    }
    for (const p of o.ownPorts ?? []) this.refusePort(p);
  }

  /** A port this process listens on, known only once it listens (PORT=0). */
  refusePort(p: OwnPort): void {
    if (p.port > 0 && !this.own.has(p.port)) this.own.set(p.port, p.label);
  }

  /** Resolves the host and checks every address it resolves to; returns the addresses. */
  async check(u: Pick<CameraUrl, 'host' | 'port'>, source: AddressSource): Promise<string[]> {
    const addresses = await this.resolve(u.host, source);
    for (const address of addresses) {
      const why = this.problem(address, u.port);
      if (why) throw refused(source, why);
    }
    return addresses;
  }

  /** Why a connection to address:port is refused, or null. */
  problem(address: string, port: number): string | null {
    const ip = unmapped(address);
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (ip === '0.0.0.0' || ip === '::') return 'the host resolves to an unspecified address (0.0.0.0 or ::)';
    if (isLocal(ip)) {
      const label = this.own.get(port);
      if (label) return `port ${port} on this machine is the service's own ${label}`;
    }
    if (!this.allowed.check(ip, family))
      return `the host resolves to ${ip}, outside the camera networks (CAMERA_NETWORKS)`;
    return null;
  }

  private async resolve(host: string, source: AddressSource): Promise<string[]> {
    if (isIP(host)) return [host];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(refused(source, 'the host name did not resolve in time')),
        this.o.lookupTimeoutMs ?? 3000,
      );
    });
    try {
      const found = await Promise.race([lookup(host, { all: true, verbatim: true }), deadline]);
      return found.map((a) => a.address);
    } catch (err) {
      if (err instanceof Error && 'status' in err) throw err;
      throw refused(source, 'the host name does not resolve');
    } finally {
      clearTimeout(timer);
    }
  }
}

/** ::ffff:127.0.0.1 (or ::ffff:7f00:1, as the URL parser writes it) is 127.0.0.1 for every purpose here. */
function unmapped(ip: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex) return ip.toLowerCase();
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Loopback, or an address of one of this machine's interfaces (which reaches the same ports). */
function isLocal(ip: string): boolean {
  if (ip.startsWith('127.') || ip === '::1') return true;
  return Object.values(os.networkInterfaces())
    .flat()
    .some((i) => i && unmapped(i.address) === ip);
}

/** The service's own ports from its configuration (the HTTP port is added once it listens). */
export function configuredOwnPorts(c: {
  databaseUrl?: string;
  redisUrl: string;
  s3Endpoint?: string;
  media?: { rtmpPort: number; httpPort: number } | null;
}): OwnPort[] {
  const portOf = (url: string | undefined, fallback: number) => {
    if (!url) return 0;
    const u = new URL(url);
    return u.port ? Number(u.port) : fallback;
  };
  return [
    { port: portOf(c.databaseUrl, 5432), label: 'PostgreSQL' },
    { port: portOf(c.redisUrl, 6379), label: 'Redis' },
    { port: portOf(c.s3Endpoint, c.s3Endpoint?.startsWith('https:') ? 443 : 80), label: 'S3 endpoint' },
    { port: c.media?.rtmpPort ?? 0, label: 'RTMP media server' },
    { port: c.media?.httpPort ?? 0, label: 'HTTP-FLV media server' },
  ];
}

const STORED_STREAM = { field: 'stream address', from: 'device' } as const;

/**
 * A stored stream address, checked again before each use (pull, reconnect, relay, snapshot): a
 * host name may resolve elsewhere since the camera was registered, or the policy may have changed.
 */
export async function checkStoredStream(policy: NetworkPolicy, url: string): Promise<void> {
  await policy.check(parseCameraUrl(url, STREAM_SCHEMES, STORED_STREAM), STORED_STREAM);
}

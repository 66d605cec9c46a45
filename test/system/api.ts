import { randomBytes } from 'node:crypto';
import type { LabCamera } from '../../lab/index.js';
import { ADMIN_PASSWORD } from './service.js';

/** The shapes of /api/v1 this layer reads, as the public contract (/work/shared/API.md) gives them. */
export interface Camera {
  id: string;
  siteId: string;
  unitId: string;
  name: string;
  source: 'rtsp' | 'onvif';
  status: 'connecting' | 'online' | 'degraded' | 'offline';
  statusReason: string | null;
  health: Record<string, unknown>;
  zoneIds: string[];
  streams: { profile: string; width: number | null; height: number | null }[];
}
export interface Site {
  id: string;
  unitId: string;
  name: string;
  zones: { id: string; name: string }[];
}
export interface Recording {
  id: string;
  cameraId: string;
  startedAt: string;
  endedAt: string;
  bytes: number;
  sha256: string;
}
export interface Gap {
  from: string;
  to: string;
  reason: string;
  detail: string | null;
}
export interface GapReason extends Gap {
  cameraId: string | null;
}
export interface BatchRecordings {
  cameras: {
    sessionId: string;
    cameraId: string;
    segments: (Recording & { prevSha256: string | null })[];
    gaps: Gap[];
  }[];
}
export interface Report {
  sessions: {
    sessionId: string;
    siteId: string;
    startsAt: string;
    endsAt: string;
    evaluatedUntil: string;
    zones: {
      zoneId: string;
      name: string;
      totalSeconds: number;
      coveredSeconds: number;
      cameraIds: string[];
      gaps: { from: string; to: string; seconds: number; reasons: GapReason[] }[];
    }[];
  }[];
}
export interface Verification {
  ok: boolean;
  checkedSegments: number;
  problems: {
    segmentId: string;
    cameraId: string;
    kind: 'missing' | 'altered' | 'chain_broken';
    detail: string;
  }[];
}
export interface ExportStatus {
  id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  error: string | null;
  downloadUrl?: string;
}
export interface Batch {
  id: string;
  sessions: { id: string; siteId: string; startsAt: string; endsAt: string; supervisorIds: string[] }[];
}
export interface Alert {
  id: string;
  rule: string;
  state: string;
  cameraId: string | null;
  siteId: string | null;
  openedAt: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${typeof body === 'string' ? body.slice(0, 500) : JSON.stringify(body)}`);
  }
}

/** A JSON client of one deployment's /api/v1, carrying a bearer token. */
export class Api {
  constructor(
    readonly baseUrl: string,
    readonly token: string | null = null,
    readonly user: { id: string; username: string; role: string } | null = null,
  ) {}

  static async login(baseUrl: string, username: string, password: string): Promise<Api> {
    const r = await new Api(baseUrl).send<{
      token: string;
      user: { id: string; username: string; role: string };
    }>('POST', '/auth/login', { username, password });
    return new Api(baseUrl, r.token, r.user);
  }

  static admin(baseUrl: string): Promise<Api> {
    return Api.login(baseUrl, 'admin', ADMIN_PASSWORD);
  }

  get headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** The raw response of a path under /api/v1 (or an absolute path like /api/v1/exports/…/download). */
  fetch(p: string, init: RequestInit = {}): Promise<Response> {
    const url = p.startsWith('/api/') ? `${this.baseUrl}${p}` : `${this.baseUrl}/api/v1${p}`;
    return fetch(url, { ...init, headers: { ...this.headers, ...(init.headers as Record<string, string>) } });
  }

  /** JSON in, JSON out; anything but 2xx throws with the body. */
  async send<T>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await this.fetch(p, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    const parsed: unknown =
      (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text;
    if (res.status < 200 || res.status > 299) throw new ApiError(res.status, parsed, `${method} ${p}`);
    return parsed as T;
  }

  get<T>(p: string): Promise<T> {
    return this.send<T>('GET', p);
  }
  post<T>(p: string, body: unknown = {}): Promise<T> {
    return this.send<T>('POST', p, body);
  }
  put<T>(p: string, body: unknown): Promise<T> {
    return this.send<T>('PUT', p, body);
  }

  /** The bytes of a path (footage, exports). */
  async bytes(p: string): Promise<Buffer> {
    const res = await this.fetch(p);
    const buf = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new ApiError(res.status, buf.toString('utf8', 0, 500), `GET ${p}`);
    return buf;
  }
}

const CREDIT_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** A valid unified social credit code (with its check character) with a random body. */
export function creditCode(): string {
  let body = '91';
  for (let i = 0; i < 15; i++) body += CREDIT_CHARS[Math.floor(Math.random() * 31)];
  const sum = [...body].reduce((acc, ch, i) => acc + CREDIT_CHARS.indexOf(ch) * WEIGHTS[i]!, 0);
  return body + CREDIT_CHARS[(31 - (sum % 31)) % 31];
}

export const suffix = () => randomBytes(3).toString('hex');

export interface SeededUnit {
  admin: Api;
  operator: Api;
  unitId: string;
  site: Site;
}

/** As an administrator would: a unit, a site with `zones` work stations, and an operator of the unit. */
export async function seedUnit(baseUrl: string, name: string, zones: string[]): Promise<SeededUnit> {
  const admin = await Api.admin(baseUrl);
  const unit = await admin.post<{ id: string }>('/units', {
    name: `${name} ${suffix()}`,
    creditCode: creditCode(),
    kind: 'third_party',
    region: '江苏 南京',
  });
  const site = await admin.post<Site>('/sites', {
    unitId: unit.id,
    name: `${name} site`,
    zones: zones.map((z) => ({ name: z })),
  });
  const username = `op_${suffix()}`;
  await admin.post('/users', {
    username,
    password: 'operator-pass-1',
    role: 'unit_operator',
    unitId: unit.id,
  });
  const operator = await Api.login(baseUrl, username, 'operator-pass-1');
  return { admin, operator, unitId: unit.id, site };
}

/** Registers a lab camera by ONVIF (device address and credentials) or by its RTSP main stream URL. */
export async function registerCamera(
  operator: Api,
  siteId: string,
  lab: LabCamera,
  how: 'onvif' | 'rtsp',
  zoneIds: string[],
): Promise<Camera> {
  const body =
    how === 'onvif'
      ? {
          siteId,
          name: `${lab.name} (ONVIF)`,
          onvif: {
            host: lab.onvif.host,
            port: lab.onvif.port,
            username: lab.username,
            password: lab.password,
          },
        }
      : { siteId, name: `${lab.name} (RTSP)`, rtspUrl: lab.rtsp.main };
  const cam = await operator.post<Camera>('/cameras', body);
  await operator.put(`/cameras/${cam.id}/zones`, { zoneIds });
  return cam;
}

/** A user of a role, logged in. */
export async function makeUser(
  admin: Api,
  role: 'supervisor' | 'auditor',
): Promise<Api & { password: string }> {
  const username = `${role.slice(0, 3)}_${suffix()}`;
  const password = 'user-password-1';
  await admin.post('/users', { username, password, role });
  return Object.assign(await Api.login(admin.baseUrl, username, password), { password });
}

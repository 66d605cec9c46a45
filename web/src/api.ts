/** The service's REST API as the page uses it; the token lives in sessionStorage for this tab. */
export interface User {
  id: string;
  username: string;
  role: string;
  unitId: string | null;
}
export interface Alert {
  id: string;
  rule: string;
  severity: 'warning' | 'critical';
  state: 'open' | 'acknowledged' | 'resolved';
  subject: { type: string; id: string | null };
  siteId: string | null;
  cameraId: string | null;
  zoneId: string | null;
  occurrences: number;
  detail: string | null;
  openedAt: string;
  acknowledgedBy: string | null;
}
export interface Camera {
  id: string;
  siteId: string;
  name: string;
  status: string;
  zoneIds: string[];
}
export interface Site {
  id: string;
  name: string;
  zones: { id: string; name: string }[];
  coverage: { zoneId: string; cameraIds: string[] }[];
}
export interface Session {
  id: string;
  siteId: string;
  startsAt: string;
  endsAt: string;
  supervisorIds: string[];
}
export interface Batch {
  id: string;
  code: string;
  sessions: Session[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Api {
  constructor(readonly token: string | null = sessionStorage.getItem('token')) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = res.status === 204 ? null : await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, json?.error?.message ?? res.statusText);
    return json as T;
  }

  static async login(username: string, password: string): Promise<{ api: Api; user: User }> {
    const r = await new Api(null).request<{ token: string; user: User }>('POST', '/auth/login', {
      username,
      password,
    });
    sessionStorage.setItem('token', r.token);
    sessionStorage.setItem('user', JSON.stringify(r.user));
    return { api: new Api(r.token), user: r.user };
  }

  batches = () => this.request<{ items: Batch[] }>('GET', '/batches?limit=200');
  site = (id: string) => this.request<Site>('GET', `/sites/${id}`);
  camera = (id: string) => this.request<Camera>('GET', `/cameras/${id}`);
  live = (id: string) =>
    this.request<{ flvUrl: string; wsFlvUrl: string; expiresAt: string }>('GET', `/cameras/${id}/live`);
  alerts = (siteId: string) =>
    this.request<{ items: Alert[] }>('GET', `/alerts?state=unresolved&siteId=${siteId}&limit=200`);
  ack = (id: string) => this.request<Alert>('POST', `/alerts/${id}/ack`);
}

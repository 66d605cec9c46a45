import type { operations, paths } from './api-types.js';

/**
 * The service's REST API, typed from the OpenAPI document (api-types.ts is generated, never edited).
 * The token lives in sessionStorage for this tab.
 */
type Method = 'get' | 'post' | 'put' | 'delete';
type Json<R> = R extends { content: { 'application/json': infer J } } ? J : undefined;
type OkOf<O> = O extends { responses: infer R }
  ? R extends { 200: infer X }
    ? Json<X>
    : R extends { 201: infer X }
      ? Json<X>
      : R extends { 202: infer X }
        ? Json<X>
        : undefined
  : never;
type BodyOf<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : undefined;

export type Path = keyof paths;
type Op<P extends Path, M extends Method> = NonNullable<paths[P][M]>;
export type Res<P extends Path, M extends Method = 'get'> = OkOf<Op<P, M>>;
export type Req<P extends Path, M extends Method> = BodyOf<Op<P, M>>;
export type ResOf<K extends keyof operations> = OkOf<operations[K]>;

export type User = ResOf<'postAuthLogin'>['user'];
export type Role = User['role'];
export type Unit = ResOf<'getUnitsById'>;
export type SiteDetail = ResOf<'getSitesById'>;
export type SiteSummary = ResOf<'getSites'>['items'][number];
export type Zone = SiteDetail['zones'][number];
export type Coverage = SiteDetail['coverage'][number];
export type Camera = ResOf<'getCamerasById'>;
export type CameraStatus = Camera['status'];
export type Discovered = ResOf<'postCamerasDiscover'>['items'][number];
export type Batch = ResOf<'getBatches'>['items'][number];
export type BatchDetail = ResOf<'getBatchesById'>;
export type Session = Batch['sessions'][number];
export type Readiness = NonNullable<BatchDetail['readiness']>;
export type Alert = ResOf<'getAlerts'>['items'][number];
export type BatchRecordings = ResOf<'getBatchesByIdRecordings'>;
export type Report = ResOf<'getBatchesByIdReport'>;
export type Verification = ResOf<'postBatchesByIdVerify'>;
export type ExportView = ResOf<'getExportsById'>;
export type AuditRecord = ResOf<'getAudit'>['items'][number];
export type AuditVerification = ResOf<'postAuditVerify'>;
export type SystemHealth = ResOf<'getSystemHealth'>;
export type Draw = ResOf<'postBatchesByIdDispatch'>;
export type UserCreate = Req<'/api/v1/users', 'post'>;
export type UnitCreate = Req<'/api/v1/units', 'post'>;
export type CameraCreate = Req<'/api/v1/cameras', 'post'>;
export type BatchCreate = Req<'/api/v1/batches', 'post'>;

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

const BASE = '/api/v1';

export class Api {
  constructor(readonly token: string | null = sessionStorage.getItem('token')) {}

  /** `path` is the document's path ('/api/v1/sites/{id}'); `params` fill its {placeholders}. */
  async call<P extends Path, M extends Method>(
    method: M,
    path: P,
    opts: {
      params?: Record<string, string>;
      query?: QueryOf<Op<P, M>> | Record<string, string | number | undefined>;
      body?: Req<P, M>;
    } = {},
  ): Promise<Res<P, M>> {
    const res = await this.fetch(method, this.url(path, opts.params, opts.query), opts.body);
    if (res.status === 204) return undefined as Res<P, M>;
    return (await res.json()) as Res<P, M>;
  }

  url(path: Path, params: Record<string, string> = {}, query?: object): string {
    let url = String(path).replace(/\{(\w+)\}/g, (_m, k: string) => encodeURIComponent(params[k] ?? ''));
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {}))
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    if ([...q].length) url += `?${q}`;
    return url;
  }

  /** A raw authorised request (blobs, HTML); throws ApiError on 4xx/5xx. */
  async fetch(method: string, url: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, {
      method: method.toUpperCase(),
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) {
      const json = (await res.json().catch(() => null)) as {
        error?: { code?: string; message?: string; details?: ErrorDetail[] };
      } | null;
      const err = new ApiError(
        res.status,
        json?.error?.code ?? 'http_error',
        json?.error?.message ?? res.statusText,
        json?.error?.details ?? [],
      );
      if (res.status === 401 && this.token) window.dispatchEvent(new CustomEvent('ess:unauthorized'));
      throw err;
    }
    return res;
  }

  static async login(username: string, password: string): Promise<{ api: Api; user: User }> {
    const r = await new Api(null).call('post', `${BASE}/auth/login`, { body: { username, password } });
    sessionStorage.setItem('token', r.token);
    sessionStorage.setItem('user', JSON.stringify(r.user));
    return { api: new Api(r.token), user: r.user };
  }

  // The calls the pages make, by name.
  units = () => this.call('get', `${BASE}/units`, { query: { limit: 200 } });
  createUnit = (body: UnitCreate) => this.call('post', `${BASE}/units`, { body });
  users = () => this.call('get', `${BASE}/users`, { query: { limit: 200 } });
  createUser = (body: UserCreate) => this.call('post', `${BASE}/users`, { body });
  sites = () => this.call('get', `${BASE}/sites`, { query: { limit: 200 } });
  site = (id: string) => this.call('get', `${BASE}/sites/{id}`, { params: { id } });
  createSite = (body: Req<'/api/v1/sites', 'post'>) => this.call('post', `${BASE}/sites`, { body });
  renameSite = (id: string, name: string) =>
    this.call('put', `${BASE}/sites/{id}`, { params: { id }, body: { name } });
  addZone = (id: string, name: string) =>
    this.call('post', `${BASE}/sites/{id}/zones`, { params: { id }, body: { name } });
  renameZone = (id: string, zoneId: string, name: string) =>
    this.call('put', `${BASE}/sites/{id}/zones/{zoneId}`, { params: { id, zoneId }, body: { name } });
  discover = (timeoutMs: number) => this.call('post', `${BASE}/cameras/discover`, { body: { timeoutMs } });
  createCamera = (body: CameraCreate) => this.call('post', `${BASE}/cameras`, { body });
  camera = (id: string) => this.call('get', `${BASE}/cameras/{id}`, { params: { id } });
  setZones = (id: string, zoneIds: string[]) =>
    this.call('put', `${BASE}/cameras/{id}/zones`, { params: { id }, body: { zoneIds } });
  removeCamera = (id: string) => this.call('delete', `${BASE}/cameras/{id}`, { params: { id } });
  setReference = (id: string) => this.call('post', `${BASE}/cameras/{id}/reference`, { params: { id } });
  reference = (id: string) => this.call('get', `${BASE}/cameras/{id}/reference`, { params: { id } });
  live = (id: string) => this.call('get', `${BASE}/cameras/{id}/live`, { params: { id } });
  batches = () => this.call('get', `${BASE}/batches`, { query: { limit: 200 } });
  batch = (id: string) => this.call('get', `${BASE}/batches/{id}`, { params: { id } });
  createBatch = (body: BatchCreate) => this.call('post', `${BASE}/batches`, { body });
  recordings = (id: string) => this.call('get', `${BASE}/batches/{id}/recordings`, { params: { id } });
  report = (id: string) => this.call('get', `${BASE}/batches/{id}/report`, { params: { id } });
  verify = (id: string) => this.call('post', `${BASE}/batches/{id}/verify`, { params: { id } });
  requestExport = (id: string) => this.call('post', `${BASE}/batches/{id}/exports`, { params: { id } });
  exportStatus = (id: string) => this.call('get', `${BASE}/exports/{id}`, { params: { id } });
  dispatch = (id: string) => this.call('post', `${BASE}/batches/{id}/dispatch`, { params: { id }, body: {} });
  fileOpinion = (id: string, body: Req<'/api/v1/batches/{id}/opinions', 'post'>) =>
    this.call('post', `${BASE}/batches/{id}/opinions`, { params: { id }, body });
  alerts = (query: { siteId?: string; batchId?: string; state?: Alert['state'] | 'unresolved' }) =>
    this.call('get', `${BASE}/alerts`, { query: { ...query, limit: 200 } });
  ack = (id: string) => this.call('post', `${BASE}/alerts/{id}/ack`, { params: { id } });
  audit = (query: { subject?: string; actor?: string; limit?: number; order?: 'asc' | 'desc' }) =>
    this.call('get', `${BASE}/audit`, { query });
  verifyAudit = () => this.call('post', `${BASE}/audit/verify`);
  health = () => this.call('get', `${BASE}/system/health`);
}

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { systemActor } from '../../src/access/actor.js';
import type { DomainEvents, EventName } from '../../src/events.js';
import { makeCreditCode, seedUnit, sql, type ApiClient, type TestService } from '../support/service.js';

/** Polls until fn returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LiveClient {
  socket: Socket;
  events: { name: string; seq: number; [k: string]: any }[];
  subscribe(target: { siteId?: string; batchId?: string; service?: true; afterSeq?: number }): Promise<any>;
  close(): void;
}

/** A socket.io client of /live that records every event it receives. */
export async function connectLive(baseUrl: string, token: string): Promise<LiveClient> {
  const socket = io(baseUrl, {
    path: '/live',
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
  });
  const events: LiveClient['events'] = [];
  socket.onAny((name: string, payload: any) => events.push({ ...payload, name }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return {
    socket,
    events,
    subscribe: (target) => socket.timeout(10_000).emitWithAck('subscribe', target),
    close: () => socket.close(),
  };
}

export function publish<K extends EventName>(svc: TestService, name: K, payload: DomainEvents[K]) {
  return svc.services.events.publish(name, payload);
}

export const now = () => new Date().toISOString();

/** A unit with a site of two zones, one camera on zone A, an operator, and a supervisor user. */
export async function seedSite(svc: TestService, name = 'Unit', opts: { confidential?: boolean } = {}) {
  const admin = await svc.admin();
  let unit: any;
  let site: any;
  let operator: ApiClient;
  if (opts.confidential) {
    unit = (
      await admin.post('/units', { name, creditCode: makeCreditCode(), kind: 'employer', confidential: true })
    ).body;
    site = (
      await admin.post('/sites', {
        unitId: unit.id,
        name: `${name} site`,
        zones: [{ name: 'Room A' }, { name: 'Room B' }],
      })
    ).body;
    const username = `op_${randomBytes(4).toString('hex')}`;
    await admin.post('/users', {
      username,
      password: 'operator-pass',
      role: 'unit_operator',
      unitId: unit.id,
    });
    operator = await svc.api.login(username, 'operator-pass');
  } else {
    ({ unit, site, operator } = await seedUnit(svc, name));
  }
  // Registered through the registry directly: the API probes the stream, and these tests have none.
  const camera = await svc.services.cameras.create(systemActor, {
    siteId: site.id,
    name: `${name} cam`,
    source: 'rtsp',
    rtspUrl: 'rtsp://127.0.0.1:9/cam/main',
  });
  await operator.put(`/cameras/${camera.id}/zones`, { zoneIds: [site.zones[0].id] });
  return { admin, unit, site, operator, camera };
}

export async function makeUser(svc: TestService, role: string, unitId?: string) {
  const admin = await svc.admin();
  const username = `${role.slice(0, 4)}_${randomBytes(4).toString('hex')}`;
  const created = await admin.post('/users', {
    username,
    password: 'user-password',
    role,
    ...(unitId ? { unitId } : {}),
  });
  if (created.status !== 201)
    throw new Error(`create user: ${created.status} ${JSON.stringify(created.body)}`);
  return { id: created.body.id as string, username, client: await svc.api.login(username, 'user-password') };
}

/** A batch with one session at the site running now, and the supervisor assigned to it. */
export async function runningSession(
  svc: TestService,
  operator: ApiClient,
  unitId: string,
  siteId: string,
  supervisorId?: string,
) {
  const startsAt = new Date(Date.now() + 60_000).toISOString();
  const endsAt = new Date(Date.now() + 3600_000).toISOString();
  const batch = await operator.post('/batches', {
    code: `B${randomBytes(3).toString('hex')}`,
    unitId,
    occupationCode: '6-18-01-01',
    level: 4,
    sessions: [{ siteId, startsAt, endsAt }],
  });
  if (batch.status !== 201) throw new Error(`batch: ${batch.status} ${JSON.stringify(batch.body)}`);
  const sessionId = batch.body.sessions[0].id as string;
  // Move the session to "now" directly: the API only plans sessions ahead.
  await sql(svc.schema, `UPDATE batch_sessions SET starts_at = now() - interval '5 minutes' WHERE id = $1`, [
    sessionId,
  ]);
  if (supervisorId)
    await sql(svc.schema, 'INSERT INTO session_supervisors (session_id, user_id) VALUES ($1, $2)', [
      sessionId,
      supervisorId,
    ]);
  return { batchId: batch.body.id as string, sessionId };
}

export async function alerts(client: ApiClient, query = ''): Promise<any[]> {
  const r = await client.get(`/alerts?limit=200${query}`);
  if (r.status !== 200) throw new Error(`GET /alerts: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.items;
}

/**
 * Pushes H.264 to the service's media server with the live relay's own ffmpeg output arguments: from an
 * RTSP camera (lab) directly, or from an ffmpeg test source through a pipe.
 */
export function pushToMedia(svc: TestService, cameraId: string, rtspUrl?: string): ChildProcess[] {
  const output = svc.services.liveRelay!.publishArgs(cameraId);
  if (rtspUrl) {
    const pull = spawn('ffmpeg', ['-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', rtspUrl, ...output], {
      stdio: 'ignore',
    });
    return [pull];
  }
  const source = spawn(
    'ffmpeg',
    [
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x180:rate=15',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      '15',
      '-f',
      'mpegts',
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const push = spawn(
    'ffmpeg',
    [
      '-loglevel',
      'error',
      '-probesize',
      '100000',
      '-analyzeduration',
      '500000',
      '-f',
      'mpegts',
      '-i',
      'pipe:0',
      ...output,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'] },
  );
  source.stdout!.pipe(push.stdin!);
  push.stdin!.on('error', () => undefined);
  return [source, push];
}

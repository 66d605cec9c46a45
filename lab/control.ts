import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeNow, listenOn } from './http-server.js';
import type { Lab, LabFaultKind } from './index.js';
import { LAB_FAULT_KINDS } from './index.js';
import { SCENE_CHANGES, type SceneChange } from './scenes.js';

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

/**
 * HTTP control API of the lab:
 *   GET    /cameras                     cameras with addresses and active faults
 *   POST   /cameras/:id/faults          {"kind": "black", "durationMs"?: 5000, "skewMs"?: 60000}
 *   DELETE /cameras/:id/faults/:kind    clear one fault
 *   DELETE /cameras/:id/faults          clear all faults of the camera
 *   GET    /cameras/:id/scene           room mode: the scene and the change it shows
 *   POST   /cameras/:id/scene           {"change": "lights_off", "durationMs"?: 60000}
 *   DELETE /cameras/:id/scene           back to the normal picture
 */
export async function startControlServer(lab: Lab, host: string): Promise<ControlServer> {
  const server = createServer((req, res) => {
    handle(lab, req, res).catch((e: unknown) => json(res, 500, { error: String(e) }));
  });
  const port = await listenOn(server, 0, host);
  return { url: `http://${host}:${port}`, close: () => closeNow(server) };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  const parsed: unknown = JSON.parse(text);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('body must be a JSON object');
  return parsed as Record<string, unknown>;
}

async function handle(lab: Lab, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const camera = parts[1] ? lab.cameras.find((c) => c.id === parts[1]) : undefined;

  if (req.method === 'GET' && path === '/cameras') {
    json(
      res,
      200,
      lab.cameras.map((c) => ({ ...c, faults: lab.faults(c.id), scene: lab.scene(c.id) })),
    );
    return;
  }
  if (parts[0] === 'cameras' && parts[2] === 'scene' && parts.length === 3) {
    await handleScene(lab, camera?.id, parts[1], req, res);
    return;
  }
  if (parts[0] !== 'cameras' || parts[2] !== 'faults' || parts.length > 4) {
    json(res, 404, { error: 'not found' });
    return;
  }
  if (!camera) {
    json(res, 404, { error: `no camera ${parts[1]}` });
    return;
  }
  if (req.method === 'GET' && parts.length === 3) {
    json(res, 200, lab.faults(camera.id));
    return;
  }
  if (req.method === 'POST' && parts.length === 3) {
    let body: Record<string, unknown>;
    try {
      body = await readJson(req);
    } catch (e) {
      json(res, 400, { error: String(e) });
      return;
    }
    const kind = body.kind as LabFaultKind;
    if (!LAB_FAULT_KINDS.includes(kind)) {
      json(res, 400, { error: `kind must be one of ${LAB_FAULT_KINDS.join(', ')}` });
      return;
    }
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    await lab.inject(camera.id, kind, { durationMs: num(body.durationMs), skewMs: num(body.skewMs) });
    json(res, 201, lab.faults(camera.id));
    return;
  }
  if (req.method === 'DELETE') {
    const kind = parts[3] as LabFaultKind | undefined;
    if (kind !== undefined && !LAB_FAULT_KINDS.includes(kind)) {
      json(res, 400, { error: `unknown fault kind ${kind}` });
      return;
    }
    await lab.clear(camera.id, kind);
    json(res, 200, lab.faults(camera.id));
    return;
  }
  json(res, 405, { error: 'method not allowed' });
}

async function handleScene(
  lab: Lab,
  cameraId: string | undefined,
  asked: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!cameraId) return json(res, 404, { error: `no camera ${asked}` });
  if (!lab.scene(cameraId)) return json(res, 409, { error: 'the lab is not in room mode' });
  if (req.method === 'GET') return json(res, 200, lab.scene(cameraId));
  if (req.method === 'DELETE') {
    await lab.sceneChange(cameraId, null);
    return json(res, 200, lab.scene(cameraId));
  }
  if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
  let body: Record<string, unknown>;
  try {
    body = await readJson(req);
  } catch (e) {
    return json(res, 400, { error: String(e) });
  }
  const change = body.change as SceneChange;
  if (typeof change !== 'string' || !(change in SCENE_CHANGES))
    return json(res, 400, { error: `change must be one of ${Object.keys(SCENE_CHANGES).join(', ')}` });
  const ms = body.durationMs;
  await lab.sceneChange(cameraId, change, {
    durationMs: typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined,
  });
  json(res, 201, lab.scene(cameraId));
}

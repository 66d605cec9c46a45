import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { DiscoveryResponder, type DiscoverableDevice } from './discovery.js';
import { OnvifDevice, scopes, type OnvifCameraInfo } from './onvif.js';
import { RtspProcess, type CameraStreamState } from './rtsp-process.js';
import { prepareVariants } from './variants.js';
import {
  DAYLIGHT_CYCLE_S,
  DAYLIGHT_STEPS,
  loopName,
  parseScene,
  prepareRoomVariants,
  type RoomScene,
} from './room.js';
import { SCENE_CHANGES, type SceneChange } from './scenes.js';
import { startControlServer, type ControlServer } from './control.js';

export type LabFaultKind =
  | 'offline'
  | 'stalled'
  | 'black'
  | 'frozen'
  | 'blurred'
  | 'covered'
  | 'moved'
  | 'low_fps'
  | 'low_bitrate'
  | 'low_resolution'
  | 'clock_skew'
  | 'wrong_credentials'
  | 'reboot';

export const LAB_FAULT_KINDS: readonly LabFaultKind[] = [
  'offline',
  'stalled',
  'black',
  'frozen',
  'blurred',
  'covered',
  'moved',
  'low_fps',
  'low_bitrate',
  'low_resolution',
  'clock_skew',
  'wrong_credentials',
  'reboot',
];

export interface LabCamera {
  id: string;
  name: string;
  username: string;
  password: string;
  onvif: { host: string; port: number; xaddr: string };
  rtsp: { main: string; sub: string };
  rtspNoAuth: { main: string; sub: string };
  snapshotUrl: string;
  /** Advertised stream parameters. */
  main: { width: number; height: number; fps: number; codec: 'h264' };
  sub: { width: number; height: number; fps: number; codec: 'h264' };
  /** WS-Discovery endpoint reference (urn:uuid:...). */
  endpoint: string;
  scopes: string[];
}

export interface ActiveFault {
  kind: LabFaultKind;
  /** Epoch ms when the fault clears by itself; absent = until cleared. */
  until?: number;
  skewMs?: number;
}

/** Room mode: the camera's scene and the change it shows now (besides any injected fault). */
export interface LabSceneState {
  kind: RoomScene['kind'];
  seed: number;
  change: SceneChange | null;
  /** Epoch ms when the change ends by itself; absent = until ended. */
  until?: number;
  /** Which step of the daylight cycle the normal picture shows (0 … DAYLIGHT_STEPS-1). */
  daylight: number;
}

export interface Lab {
  cameras: LabCamera[];
  controlUrl: string;
  mode: 'live' | 'scale' | 'room';
  /** Pid of the RTSP server process (for benchmarks). */
  serverPid: number;
  inject(
    cameraId: string,
    kind: LabFaultKind,
    opts?: { durationMs?: number; skewMs?: number },
  ): Promise<void>;
  clear(cameraId: string, kind?: LabFaultKind): Promise<void>;
  faults(cameraId: string): ActiveFault[];
  /**
   * Room mode: the scene shows `change` (lab/scenes.ts SCENE_CHANGES) from now, for `durationMs` or
   * until changed again; null goes back to the normal picture. Injected picture faults show over it.
   */
  sceneChange(cameraId: string, change: SceneChange | null, opts?: { durationMs?: number }): Promise<void>;
  /** Room mode: the camera's scene and its current change; undefined in the other modes. */
  scene(cameraId: string): LabSceneState | undefined;
  stop(): Promise<void>;
}

export interface StartLabOptions {
  cameras: number;
  /**
   * live: x264 per viewed stream, name and clock burnt in. scale: pre-encoded loops, no encoding.
   * room: each camera streams a room scene of lab/scenes.ts (pre-encoded loops, one per change).
   */
  mode?: 'live' | 'scale' | 'room';
  /** Room mode: the cameras' scenes in turn (`classroom/3`, `empty/7`); default classroom/1, /2, … */
  scenes?: (RoomScene | string)[];
  /** Room mode: seconds per daylight step of the normal picture (default 60: a 10-minute cycle). */
  daylightStepS?: number;
  namePrefix?: string;
  /** Answer WS-Discovery probes on UDP 3702 (multicast): only inside a private network namespace in tests. */
  discovery?: boolean;
  width?: number;
  height?: number;
  fps?: number;
  /** Host the lab's servers bind to and advertise. */
  host?: string;
}

const DEFAULT_CLOCK_SKEW_MS = 3600_000;
const INTERNAL_USER = 'lab-internal';

interface CameraRuntime {
  info: LabCamera;
  onvif: OnvifDevice;
  faults: Map<LabFaultKind, ActiveFault & { timer?: NodeJS.Timeout }>;
  wrongPassword: string;
  internalPassword: string;
  scene?: {
    kind: RoomScene['kind'];
    seed: number;
    change: SceneChange | null;
    until?: number;
    timer?: NodeJS.Timeout;
  };
}

export async function startLab(opts: StartLabOptions): Promise<Lab> {
  const count = opts.cameras;
  if (!Number.isInteger(count) || count < 1) throw new Error('cameras must be a positive integer');
  // Live encoding costs ~25 % of a core per viewed 720p camera: beyond a few cameras use loops.
  const mode = opts.mode ?? (opts.scenes ? 'room' : count <= 4 ? 'live' : 'scale');
  const host = opts.host ?? '127.0.0.1';
  const width = even(opts.width ?? 1280);
  const height = even(opts.height ?? 720);
  const subWidth = even(width / 2);
  const subHeight = even(height / 2);
  const fps = opts.fps ?? 15;
  const mainKbps = Math.max(256, Math.round((width * height * fps) / 7000));
  const subKbps = Math.max(128, Math.round((subWidth * subHeight * fps) / 7000));
  const prefix = opts.namePrefix ?? 'Lab Camera';

  const specs = Array.from({ length: count }, (_, i) => ({
    id: `cam${i + 1}`,
    name: `${prefix} ${i + 1}`,
    username: 'admin',
    password: `lab-${randomBytes(4).toString('hex')}`,
    internalUser: INTERNAL_USER,
    internalPassword: randomBytes(12).toString('hex'),
  }));
  const variantSpec = { width, height, subWidth, subHeight, fps, mainKbps, subKbps };
  const variants = mode === 'scale' ? await prepareVariants(variantSpec) : undefined;
  const scenes =
    mode === 'room'
      ? specs.map((_, i): RoomScene => {
          const given = opts.scenes?.length ? opts.scenes[i % opts.scenes.length]! : `classroom/${i + 1}`;
          return typeof given === 'string' ? parseScene(given) : given;
        })
      : [];
  if (mode === 'room' && width * height > 1280 * 720) throw new Error('room mode draws at most 1280x720');
  const cameraSpecs = [];
  for (const [i, spec] of specs.entries()) {
    const scene = scenes[i];
    // One camera's loops after the other: each is drawn two changes at a time.
    const own = scene ? await prepareRoomVariants(variantSpec, scene, spec.name) : undefined;
    cameraSpecs.push({ ...spec, variants: own });
  }
  const rtsp = await RtspProcess.start({
    // The server plays room loops as it plays the scale mode's, only per camera.
    mode: mode === 'live' ? 'live' : 'scale',
    width,
    height,
    subWidth,
    subHeight,
    fps,
    mainKbps,
    subKbps,
    cameras: cameraSpecs,
    variants,
  });

  const helpers = new Set<ChildProcess>();
  const runtimes = new Map<string, CameraRuntime>();
  let stopped = false;

  const snapshot = (rt: CameraRuntime, stream: 'main' | 'sub') => {
    const port = rtsp.ports[rt.info.id];
    const url = `rtsp://${INTERNAL_USER}:${rt.internalPassword}@${host}:${port}/${rt.info.id}/${stream}`;
    return grabJpeg(url, helpers);
  };

  const onvifDevices: OnvifDevice[] = [];
  for (const spec of specs) {
    const rtRef: { rt?: CameraRuntime } = {};
    const cameraInfo: OnvifCameraInfo = {
      id: spec.id,
      name: spec.name,
      username: spec.username,
      acceptedPassword: () =>
        rtRef.rt?.faults.has('wrong_credentials') ? rtRef.rt.wrongPassword : spec.password,
      skewMs: () => rtRef.rt?.faults.get('clock_skew')?.skewMs ?? 0,
      rtspPort: () => rtsp.ports[spec.id] ?? 0,
      width,
      height,
      subWidth,
      subHeight,
      fps,
      // The low_bitrate fault is an encoder set too low, as the camera then reports it.
      mainKbps: () => (rtRef.rt?.faults.has('low_bitrate') ? lowKbps(mainKbps) : mainKbps),
      subKbps,
      analytics: () => {
        // A scene change that is a fault in life shows in the camera's analytics as the fault does.
        const change = rtRef.rt?.scene?.change;
        const shown = (k: LabFaultKind) =>
          (rtRef.rt?.faults.has(k) ?? false) || (change ? SCENE_CHANGES[change].fault === k : false);
        return { tamper: shown('covered') || shown('black'), sceneChange: shown('moved') };
      },
      hardware: `LAB-IPC-${height}P`,
      location: `exam-site/room-${spec.id.slice(3)}`,
      snapshot: (stream) => (rtRef.rt ? snapshot(rtRef.rt, stream) : Promise.reject(new Error('not ready'))),
    };
    const onvif = new OnvifDevice(cameraInfo, host);
    await onvif.listen(0);
    onvifDevices.push(onvif);
    const port = rtsp.ports[spec.id];
    const rtspBase = `rtsp://${host}:${port}/${spec.id}`;
    const authBase = `rtsp://${spec.username}:${spec.password}@${host}:${port}/${spec.id}`;
    const info: LabCamera = {
      id: spec.id,
      name: spec.name,
      username: spec.username,
      password: spec.password,
      onvif: { host, port: onvif.port, xaddr: onvif.xaddr },
      rtsp: { main: `${authBase}/main`, sub: `${authBase}/sub` },
      rtspNoAuth: { main: `${rtspBase}/main`, sub: `${rtspBase}/sub` },
      snapshotUrl: onvif.snapshotUrl,
      main: { width, height, fps, codec: 'h264' },
      sub: { width: subWidth, height: subHeight, fps, codec: 'h264' },
      endpoint: `urn:uuid:${randomUUID()}`,
      scopes: scopes(cameraInfo),
    };
    const rt: CameraRuntime = {
      info,
      onvif,
      faults: new Map(),
      wrongPassword: randomBytes(8).toString('hex'),
      internalPassword: spec.internalPassword,
    };
    const scene = scenes[specs.indexOf(spec)];
    if (scene) rt.scene = { ...scene, change: null };
    rtRef.rt = rt;
    runtimes.set(spec.id, rt);
  }

  let discovery: DiscoveryResponder | null = null;
  if (opts.discovery) {
    discovery = new DiscoveryResponder(() =>
      [...runtimes.values()].map((rt): DiscoverableDevice => ({
        endpoint: rt.info.endpoint,
        xaddr: rt.info.onvif.xaddr,
        scopes: rt.info.scopes,
        online: () => !rt.faults.has('reboot'),
      })),
    );
    await discovery.start();
  }

  const runtime = (id: string): CameraRuntime => {
    const rt = runtimes.get(id);
    if (!rt) throw new Error(`no camera ${id} in this lab`);
    return rt;
  };

  const streamState = (rt: CameraRuntime): CameraStreamState => {
    const has = (k: LabFaultKind) => rt.faults.has(k);
    return {
      offline: has('offline') || has('reboot'),
      stalled: has('stalled'),
      black: has('black'),
      frozen: has('frozen'),
      blurred: has('blurred'),
      covered: has('covered'),
      moved: has('moved'),
      lowFps: has('low_fps'),
      lowBitrate: has('low_bitrate'),
      lowResolution: has('low_resolution'),
      skewMs: rt.faults.get('clock_skew')?.skewMs ?? 0,
      wrongCredentials: has('wrong_credentials'),
      change: rt.scene ? loopFor(rt.scene.change) : null,
    };
  };

  // Room mode: the normal picture follows the daylight, one loop per step of the cycle.
  const daylightStepMs = (opts.daylightStepS ?? DAYLIGHT_CYCLE_S / DAYLIGHT_STEPS) * 1000;
  const startedAt = Date.now();
  const daylight = () => Math.floor((Date.now() - startedAt) / daylightStepMs) % DAYLIGHT_STEPS;
  const loopFor = (change: SceneChange | null) =>
    change ? loopName(change) : daylight() === 0 ? 'normal' : `daylight-${daylight()}`;
  let daylightTimer: NodeJS.Timeout | undefined;
  if (mode === 'room') {
    daylightTimer = setInterval(() => {
      for (const rt of runtimes.values())
        if (!rt.scene?.change)
          serial(rt.info.id, () => sync(rt, rt.faults.has('reboot'))).catch(() => undefined);
    }, daylightStepMs);
    daylightTimer.unref?.();
  }

  // Faults of one camera are applied one after the other, in the order asked.
  const chains = new Map<string, Promise<void>>();
  const serial = (id: string, fn: () => Promise<void>): Promise<void> => {
    const next = (chains.get(id) ?? Promise.resolve()).catch(() => undefined).then(fn);
    chains.set(id, next);
    return next;
  };

  const sync = async (rt: CameraRuntime, wasRebooting: boolean): Promise<void> => {
    const rebooting = rt.faults.has('reboot');
    if (rebooting && !wasRebooting) await rt.onvif.close();
    await rtsp.setState(rt.info.id, streamState(rt));
    if (!rebooting && wasRebooting && !stopped) await rt.onvif.listen(rt.info.onvif.port);
  };

  const clearNow = async (rt: CameraRuntime, kind?: LabFaultKind): Promise<void> => {
    const wasRebooting = rt.faults.has('reboot');
    for (const [k, f] of [...rt.faults]) {
      if (kind && k !== kind) continue;
      if (f.timer) clearTimeout(f.timer);
      rt.faults.delete(k);
    }
    await sync(rt, wasRebooting);
  };

  const lab: Lab = {
    cameras: [...runtimes.values()].map((rt) => rt.info),
    controlUrl: '',
    mode,
    serverPid: rtsp.child.pid ?? -1,
    inject(cameraId, kind, o = {}) {
      if (!LAB_FAULT_KINDS.includes(kind)) return Promise.reject(new Error(`unknown fault kind ${kind}`));
      const rt = runtime(cameraId);
      return serial(cameraId, async () => {
        const wasRebooting = rt.faults.has('reboot');
        const old = rt.faults.get(kind);
        if (old?.timer) clearTimeout(old.timer);
        const fault: ActiveFault & { timer?: NodeJS.Timeout } = { kind };
        if (kind === 'clock_skew') fault.skewMs = o.skewMs ?? DEFAULT_CLOCK_SKEW_MS;
        if (kind === 'wrong_credentials') rt.wrongPassword = randomBytes(8).toString('hex');
        if (o.durationMs !== undefined && o.durationMs >= 0) {
          fault.until = Date.now() + o.durationMs;
          fault.timer = setTimeout(() => {
            if (rt.faults.get(kind) !== fault || stopped) return;
            serial(cameraId, () => clearNow(rt, kind)).catch(() => undefined);
          }, o.durationMs);
          fault.timer.unref?.();
        }
        rt.faults.set(kind, fault);
        await sync(rt, wasRebooting);
      });
    },
    clear(cameraId, kind) {
      const rt = runtime(cameraId);
      return serial(cameraId, () => clearNow(rt, kind));
    },
    sceneChange(cameraId, change, o = {}) {
      const rt = runtime(cameraId);
      const scene = rt.scene;
      if (!scene)
        return Promise.reject(new Error(`${cameraId} shows no room scene (start the lab in room mode)`));
      if (change !== null && !(change in SCENE_CHANGES))
        return Promise.reject(new Error(`unknown scene change ${String(change)}`));
      return serial(cameraId, async () => {
        if (scene.timer) clearTimeout(scene.timer);
        scene.timer = undefined;
        scene.until = undefined;
        scene.change = change;
        if (change !== null && o.durationMs !== undefined && o.durationMs >= 0) {
          scene.until = Date.now() + o.durationMs;
          const timer = setTimeout(() => {
            if (scene.timer !== timer || stopped) return;
            lab.sceneChange(cameraId, null).catch(() => undefined);
          }, o.durationMs);
          timer.unref?.();
          scene.timer = timer;
        }
        await sync(rt, rt.faults.has('reboot'));
      });
    },
    scene(cameraId) {
      const s = runtime(cameraId).scene;
      return s && { kind: s.kind, seed: s.seed, change: s.change, until: s.until, daylight: daylight() };
    },
    faults(cameraId) {
      return [...runtime(cameraId).faults.values()].map(({ kind, until, skewMs }) => ({
        kind,
        until,
        skewMs,
      }));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (daylightTimer) clearInterval(daylightTimer);
      for (const rt of runtimes.values()) {
        for (const f of rt.faults.values()) if (f.timer) clearTimeout(f.timer);
        if (rt.scene?.timer) clearTimeout(rt.scene.timer);
      }
      await Promise.allSettled([
        control?.close(),
        discovery?.stop(),
        ...onvifDevices.map((d) => d.close()),
        rtsp.stop(),
        ...[...helpers].map((c) => killAndWait(c)),
      ]);
    },
  };

  let control: ControlServer | null = null;
  try {
    control = await startControlServer(lab, host);
  } catch (e) {
    await lab.stop();
    throw e;
  }
  lab.controlUrl = control.url;
  return lab;
}

/** The main stream's bitrate under a low_bitrate fault (as rtsp_server.py and variants.ts encode it). */
function lowKbps(kbps: number): number {
  return Math.max(16, Math.round(kbps / 24));
}

function even(n: number): number {
  return Math.max(2, Math.round(n / 2) * 2);
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** One JPEG of the current picture, pulled over RTSP/TCP like a viewer would. */
function grabJpeg(url: string, helpers: Set<ChildProcess>, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ffmpeg',
      [
        '-v',
        'error',
        '-rtsp_transport',
        'tcp',
        '-timeout',
        '5000000',
        '-i',
        url,
        '-frames:v',
        '1',
        '-q:v',
        '4',
        '-f',
        'image2pipe',
        '-c:v',
        'mjpeg',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    helpers.add(child);
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-1000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      helpers.delete(child);
      const jpeg = Buffer.concat(chunks);
      if (code === 0 && jpeg.length > 0) resolve(jpeg);
      else reject(new Error(`ffmpeg snapshot failed (${code}): ${err.trim()}`));
    });
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { DiscoveryResponder, type DiscoverableDevice } from './discovery.js';
import { OnvifDevice, scopes, type OnvifCameraInfo } from './onvif.js';
import { RtspProcess, type CameraStreamState } from './rtsp-process.js';
import { prepareVariants } from './variants.js';
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

export interface Lab {
  cameras: LabCamera[];
  controlUrl: string;
  mode: 'live' | 'scale';
  /** Pid of the RTSP server process (for benchmarks). */
  serverPid: number;
  inject(
    cameraId: string,
    kind: LabFaultKind,
    opts?: { durationMs?: number; skewMs?: number },
  ): Promise<void>;
  clear(cameraId: string, kind?: LabFaultKind): Promise<void>;
  faults(cameraId: string): ActiveFault[];
  stop(): Promise<void>;
}

export interface StartLabOptions {
  cameras: number;
  /** live: x264 per viewed stream, name and clock burnt in. scale: pre-encoded loops, no encoding. */
  mode?: 'live' | 'scale';
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
}

export async function startLab(opts: StartLabOptions): Promise<Lab> {
  const count = opts.cameras;
  if (!Number.isInteger(count) || count < 1) throw new Error('cameras must be a positive integer');
  // Live encoding costs ~25 % of a core per viewed 720p camera: beyond a few cameras use loops.
  const mode = opts.mode ?? (count <= 4 ? 'live' : 'scale');
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
  const variants =
    mode === 'scale'
      ? await prepareVariants({ width, height, subWidth, subHeight, fps, mainKbps, subKbps })
      : undefined;
  const rtsp = await RtspProcess.start({
    mode,
    width,
    height,
    subWidth,
    subHeight,
    fps,
    mainKbps,
    subKbps,
    cameras: specs,
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
      mainKbps,
      subKbps,
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
    };
  };

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
      for (const rt of runtimes.values())
        for (const f of rt.faults.values()) if (f.timer) clearTimeout(f.timer);
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

import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../platform/db.js';
import type { ProcessSupervisor } from '../platform/processes.js';
import { FAULT_KINDS } from './camera-state.js';
import type { CameraStatus } from './schemas.js';
import type { CameraHealth } from './stream-supervisor.js';

interface HealthRow {
  id: string;
  status: CameraStatus;
  /** What the stream supervisor last stored; partial before the camera was first supervised. */
  health: Partial<CameraHealth> | null;
}

type NumericHealth = 'fps' | 'bitrate' | 'height' | 'reconnects' | 'uptimeRatio' | 'clockSkewMs';

/**
 * Camera health gauges, labelled by camera id. Read from the cameras rows at scrape time, so any
 * API process reports every camera whichever ingest process supervises it.
 */
export function registerIngestMetrics(
  registry: Registry,
  deps: { db: Db; processes: ProcessSupervisor },
): void {
  // prom-client collects gauges concurrently: one query per scrape, shared by all of them.
  let cached: { at: number; rows: Promise<HealthRow[]> } | null = null;
  const rows = () => {
    if (!cached || Date.now() - cached.at > 500)
      cached = {
        at: Date.now(),
        rows: deps.db.query<HealthRow>('SELECT id, status, health FROM cameras WHERE deleted_at IS NULL'),
      };
    return cached.rows;
  };
  const perCamera = (name: string, help: string, value: (r: HealthRow) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['camera_id'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of await rows()) {
          const v = value(r);
          if (v !== null) this.set({ camera_id: r.id }, v);
        }
      },
    });
  const h = (key: NumericHealth) => (r: HealthRow) => r.health?.[key] ?? null;
  perCamera('camera_up', '1 while the camera delivers frames (online or degraded)', (r) =>
    r.status === 'online' || r.status === 'degraded' ? 1 : 0,
  );
  perCamera('camera_fps', 'Frames per second of the main stream', h('fps'));
  perCamera('camera_bitrate_kbps', 'Bitrate of the main stream, kbit/s', h('bitrate'));
  perCamera('camera_height_pixels', 'Picture height of the main stream', h('height'));
  perCamera('camera_reconnects', 'Reconnections since supervision started', h('reconnects'));
  perCamera('camera_uptime_ratio', 'Share of supervised time the camera delivered frames', h('uptimeRatio'));
  perCamera('camera_clock_skew_ms', 'Camera clock minus service clock, ms', h('clockSkewMs'));
  perCamera('camera_last_frame_timestamp_seconds', 'Time of the last frame received', (r) =>
    r.health?.lastFrameAt ? Date.parse(r.health.lastFrameAt) / 1000 : null,
  );
  new Gauge({
    name: 'camera_fault',
    help: '1 while the fault is active',
    labelNames: ['camera_id', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await rows()) {
        const active = new Set(r.health?.faults ?? []);
        for (const kind of FAULT_KINDS) this.set({ camera_id: r.id, kind }, active.has(kind) ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'ingest_processes',
    help: 'ffmpeg/ffprobe processes this service runs now',
    registers: [registry],
    collect() {
      this.set(deps.processes.count);
    },
  });
}

import type { Tenancy } from '../access/policy.js';
import type { UserService } from '../access/users.js';
import type { LiveEventLog } from '../alerts/live-events.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CameraRegistry } from '../ingest/cameras.js';
import type { NetworkPolicy } from '../ingest/camera-address.js';
import type { ProcessSupervisor } from '../platform/processes.js';
import type { Lifecycle, Lifetime } from '../platform/lifecycle.js';
import type { Platform } from '../platform/platform.js';
import { LiveHub } from './hub.js';
import { LiveView } from './live-view.js';
import { MediaServer } from './media-server.js';
import { LiveRelay } from './relay.js';

export interface LiveModule extends Lifecycle {
  /** socket.io hub (/live); in every process, attached to HTTP in the api role. */
  hub: LiveHub;
  /** Signed live URLs and the gate in front of the media server. */
  view: LiveView;
  /** The media server, in a process that runs the ingest role. */
  media: MediaServer | null;
  /** Live video on demand through the media server, in a process that runs the ingest role. */
  relay: LiveRelay | null;
}

/** Live push (socket.io) everywhere; the media server and the on-demand relay with the ingest role. */
export async function createLiveModule(
  p: Platform,
  deps: {
    users: UserService;
    tenancy: Tenancy;
    events: LiveEventLog;
    audit: AuditLog;
    cameras: CameraRegistry;
    processes: ProcessSupervisor;
    networkPolicy: NetworkPolicy;
  },
  lifetime: Lifetime,
): Promise<LiveModule> {
  const c = p.config;
  const hub = lifetime.own(
    new LiveHub({
      events: deps.events,
      users: deps.users,
      log: p.log,
      redisUrl: p.redisUrl,
      key: p.keys.key('sio'),
    }),
  );
  const publishSecret = p.derivedKey('nms-publish-v1').toString('hex');
  let media: MediaServer | null = null;
  let relay: LiveRelay | null = null;
  if (c.ROLES.includes('ingest')) {
    const acquired = await MediaServer.acquire({
      rtmpPort: c.LIVE_RTMP_PORT,
      httpPort: c.LIVE_HTTP_PORT,
      publishSecret,
      log: p.log,
    });
    media = acquired;
    lifetime.own({ close: () => acquired.release() });
    deps.networkPolicy.refusePort({ port: acquired.info.rtmpPort, label: 'RTMP media server' });
    deps.networkPolicy.refusePort({ port: acquired.info.httpPort, label: 'HTTP-FLV media server' });
    relay = new LiveRelay({
      media: acquired,
      cameras: deps.cameras,
      processes: deps.processes,
      networkPolicy: deps.networkPolicy,
      log: p.log,
      ffmpegPath: c.FFMPEG_PATH,
      ioTimeoutMs: c.RTSP_IO_TIMEOUT_MS,
      secret: publishSecret,
      lingerMs: c.LIVE_IDLE_MS,
    });
  }
  const view = new LiveView({
    users: deps.users,
    tenancy: deps.tenancy,
    cameras: deps.cameras,
    audit: deps.audit,
    clock: p.clock,
    key: p.derivedKey('live-view-v1'),
    ttlSeconds: c.LIVE_URL_TTL_SECONDS,
    mediaUrl: () => c.LIVE_MEDIA_URL ?? media?.httpUrl ?? null,
  });
  return {
    hub,
    view,
    media,
    relay,
    start: async () => await relay?.start(),
    close: async () => await relay?.close(),
  };
}

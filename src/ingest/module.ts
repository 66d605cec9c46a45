import type { Tenancy } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Lifetime } from '../platform/lifecycle.js';
import type { Platform } from '../platform/platform.js';
import { ProcessSupervisor } from '../platform/processes.js';
import type { SiteService } from '../sites/sites.js';
import { NetworkPolicy, configuredOwnPorts } from './camera-address.js';
import { CameraRegistry } from './cameras.js';
import { CameraDiscovery } from './discovery.js';
import type { IngestEvents } from './events.js';
import { CameraProbe } from './ffprobe.js';
import { IngestManager } from './ingest-manager.js';
import { CameraOnboarding } from './onboarding.js';
import { OnvifClient } from './onvif-client.js';
import { CameraSnapshots } from './snapshots.js';
import { StreamOutputs } from './stream-outputs.js';

export interface IngestModule {
  cameras: CameraRegistry;
  onboarding: CameraOnboarding;
  discovery: CameraDiscovery;
  snapshots: CameraSnapshots;
  onvif: OnvifClient;
  /** Spawns and watches every ffmpeg/ffprobe of this process. */
  processes: ProcessSupervisor;
  /** Consumers of each camera's single pull (recording, live relay) register here. */
  streamOutputs: StreamOutputs;
  /** Where cameras may be; ports this process listens on are added once known. */
  networkPolicy: NetworkPolicy;
  /** The ingest role: leases and one stream supervisor per owned camera. Not started. */
  supervision(): IngestManager;
}

/** Camera registry, onboarding, discovery and snapshots in every role; supervision for the ingest role. */
export function createIngestModule(
  p: Platform<IngestEvents>,
  deps: { audit: AuditLog; sites: SiteService; tenancy: Tenancy },
  lifetime: Lifetime,
): IngestModule {
  const c = p.config;
  const cameras = new CameraRegistry(p.db, deps.audit, deps.sites, p.secrets, p.clock, deps.tenancy);
  const processes = lifetime.own(new ProcessSupervisor(p.log));
  const onvif = new OnvifClient(c.ONVIF_TIMEOUT_MS, c.ONVIF_MAX_REPLY_BYTES);
  const networkPolicy = new NetworkPolicy({
    networks: c.CAMERA_NETWORKS,
    ownPorts: configuredOwnPorts({
      databaseUrl: c.DATABASE_URL,
      redisUrl: p.redisUrl,
      s3Endpoint: c.S3_ENDPOINT,
    }),
  });
  const snapshots = new CameraSnapshots(p.db, cameras, deps.audit, processes, {
    ffmpegPath: c.FFMPEG_PATH,
    timeoutMs: c.PROBE_TIMEOUT_MS,
    sample: { width: c.PICTURE_SAMPLE_WIDTH, height: c.PICTURE_SAMPLE_HEIGHT },
    policy: networkPolicy,
    maxBytes: c.SNAPSHOT_MAX_BYTES,
  });
  const streamOutputs = new StreamOutputs();
  return {
    cameras,
    onboarding: new CameraOnboarding(cameras, {
      onvif,
      ffprobe: new CameraProbe(processes, c.FFPROBE_PATH, c.PROBE_TIMEOUT_MS),
      probeOnRegister: c.PROBE_ON_REGISTER,
      policy: networkPolicy,
    }),
    discovery: new CameraDiscovery(onvif, { device: c.DISCOVERY_INTERFACE, defaultTimeoutMs: 3000 }),
    snapshots,
    onvif,
    processes,
    streamOutputs,
    networkPolicy,
    supervision: () =>
      new IngestManager({
        config: c,
        log: p.log,
        db: p.db,
        redis: p.redis,
        keys: p.keys,
        events: p.events,
        cameras,
        snapshots,
        onvif,
        processes,
        streamOutputs,
        networkPolicy,
      }),
  };
}

import type { Actor } from '../access/actor.js';
import { DeviceError } from '../platform/errors.js';
import {
  formatCameraUrl,
  HTTP_SCHEMES,
  parseCameraUrl,
  STREAM_SCHEMES,
  type AddressSource,
  type CameraScheme,
  type NetworkPolicy,
} from './camera-address.js';
import type { CameraRegistry } from './cameras.js';
import type { CameraProbe } from './ffprobe.js';
import type { OnvifClient, OnvifProfile } from './onvif-client.js';
import type { CameraCreate, CameraView, StreamInfo } from './schemas.js';

const VIDEO_ENCODINGS = new Set(['H264', 'H265', 'HEVC']);

/** Main stream = the largest picture; sub stream = the smallest other one (for light viewers). */
export function pickStreams(
  profiles: OnvifProfile[],
): { main: OnvifProfile; sub: OnvifProfile | null } | null {
  const usable = profiles
    .filter((p) => VIDEO_ENCODINGS.has(p.encoding.toUpperCase()))
    .sort((a, b) => b.width * b.height - a.width * a.height);
  const main = usable[0];
  if (!main) return null;
  const rest = usable.slice(1).filter((p) => p.width * p.height < main.width * main.height);
  return { main, sub: rest.at(-1) ?? null };
}

/** Turns what an operator gives (an RTSP address, or ONVIF host and credentials) into a registered camera. */
export class CameraOnboarding {
  constructor(
    private readonly registry: CameraRegistry,
    private readonly deps: {
      onvif: OnvifClient;
      ffprobe: CameraProbe;
      probeOnRegister: boolean;
      policy: NetworkPolicy;
    },
  ) {}

  /** Parses, rebuilds and checks an address against the network policy; returns it with credentials. */
  private async checked(raw: string, schemes: readonly CameraScheme[], source: AddressSource) {
    const url = parseCameraUrl(raw, schemes, source);
    await this.deps.policy.check(url, source);
    return url;
  }

  /**
   * Every network step has a deadline and fails with a specific DeviceError (422); the camera is
   * stored only after every step succeeded, in one transaction.
   */
  async register(actor: Actor, input: CameraCreate): Promise<CameraView> {
    await this.registry.checkSiteWritable(actor, input.siteId);
    if (input.rtspUrl) {
      const url = await this.checked(input.rtspUrl, STREAM_SCHEMES, { field: 'rtspUrl', from: 'operator' });
      const streams: StreamInfo[] = [];
      if (this.deps.probeOnRegister) {
        const probed = await this.deps.ffprobe.probe(formatCameraUrl(url, true));
        streams.push({ profile: 'main', rtspUrl: formatCameraUrl(url), ...probed });
      }
      return this.registry.create(actor, {
        siteId: input.siteId,
        name: input.name,
        source: 'rtsp',
        rtspUrl: formatCameraUrl(url, true),
        streams,
      });
    }
    const o = input.onvif!;
    const target = { host: o.host, port: o.port ?? 80, username: o.username, password: o.password };
    await this.deps.policy.check(target, { field: 'onvif.host', from: 'operator' });
    const session = await this.deps.onvif.connect(target);
    const desc = await session.describe();
    const picked = pickStreams(desc.profiles);
    if (!picked) {
      const found = [...new Set(desc.profiles.map((p) => p.encoding))].join(', ') || 'none';
      throw new DeviceError(
        'no_h264_profile',
        `ONVIF device ${target.host}:${target.port} has no H.264/H.265 profile (encodings: ${found})`,
      );
    }
    const streams: StreamInfo[] = [];
    for (const [name, profile] of [
      ['main', picked.main],
      ['sub', picked.sub],
    ] as const) {
      if (!profile) continue;
      const answered = await this.checked(await session.streamUri(profile.token), STREAM_SCHEMES, {
        field: 'GetStreamUri answer',
        from: 'device',
      });
      const url = { ...answered, username: o.username, password: o.password };
      const probed = await this.deps.ffprobe.probe(formatCameraUrl(url, true));
      streams.push({ profile: name, rtspUrl: formatCameraUrl(url), ...probed });
    }
    const snapshotRaw = await session.snapshotUri(picked.main.token);
    const snapshotUri = snapshotRaw
      ? formatCameraUrl(
          await this.checked(snapshotRaw, HTTP_SCHEMES, { field: 'GetSnapshotUri answer', from: 'device' }),
        )
      : null;
    return this.registry.create(
      actor,
      {
        siteId: input.siteId,
        name: input.name,
        source: 'onvif',
        rtspUrl: streams[0]!.rtspUrl,
        onvif: { host: target.host, port: target.port },
        streams,
        snapshotUri,
        device: { ...desc.device },
        health: { clockSkewMs: desc.clockSkewMs },
      },
      { username: o.username, password: o.password },
    );
  }
}

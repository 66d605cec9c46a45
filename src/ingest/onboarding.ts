import type { Actor } from '../access/actor.js';
import { DeviceError } from '../platform/errors.js';
import type { CameraRegistry } from './cameras.js';
import type { Ffprobe } from './ffprobe.js';
import type { OnvifClient, OnvifProfile } from './onvif-client.js';
import { splitCredentials, withCredentials } from './rtsp-url.js';
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
    private readonly deps: { onvif: OnvifClient; ffprobe: Ffprobe; probeOnRegister: boolean },
  ) {}

  /**
   * Every network step has a deadline and fails with a specific DeviceError (422); the camera is
   * stored only after every step succeeded, in one transaction.
   */
  async register(actor: Actor, input: CameraCreate): Promise<CameraView> {
    await this.registry.checkSiteWritable(actor, input.siteId);
    if (input.rtspUrl) {
      const streams: StreamInfo[] = [];
      if (this.deps.probeOnRegister) {
        const probed = await this.deps.ffprobe.probe(input.rtspUrl);
        streams.push({ profile: 'main', rtspUrl: splitCredentials(input.rtspUrl).url, ...probed });
      }
      return this.registry.create(actor, {
        siteId: input.siteId,
        name: input.name,
        source: 'rtsp',
        rtspUrl: input.rtspUrl,
        streams,
      });
    }
    const o = input.onvif!;
    const target = { host: o.host, port: o.port ?? 80, username: o.username, password: o.password };
    const session = await this.deps.onvif.connect(target);
    const desc = await session.describe();
    const picked = pickStreams(desc.profiles);
    if (!picked) {
      const found = [...new Set(desc.profiles.map((p) => p.encoding))].join(', ') || 'none';
      throw new DeviceError('no_h264_profile', `the device has no H.264/H.265 profile (encodings: ${found})`);
    }
    const streams: StreamInfo[] = [];
    for (const [name, profile] of [
      ['main', picked.main],
      ['sub', picked.sub],
    ] as const) {
      if (!profile) continue;
      const uri = splitCredentials(await session.streamUri(profile.token)).url;
      const probed = await this.deps.ffprobe.probe(withCredentials(uri, o.username, o.password));
      streams.push({ profile: name, rtspUrl: uri, ...probed });
    }
    const snapshotUri = await session.snapshotUri(picked.main.token);
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

import { MediaServer, nmsSign } from '../api/live-media-server.js';
import type { StreamOutputProvider, SupervisedCamera } from './stream-outputs.js';

/** How long a publish signature stays valid: it is checked once, when ffmpeg connects. */
const PUBLISH_SIGN_SECONDS = 24 * 3600;

/**
 * ffmpeg output arguments that copy a camera's video to the media server as FLV over RTMP. The
 * push goes through the tee muxer with onfail=ignore and a null second slave: if the media server
 * is down or drops the push, recording in the same ffmpeg carries on. FLV carries H.264 only.
 */
export function liveOutputArgs(rtmpBase: string, cameraId: string, secret: string, nowMs: number): string[] {
  const streamPath = MediaServer.streamPath(cameraId);
  const sign = nmsSign(streamPath, secret, Math.floor(nowMs / 1000) + PUBLISH_SIGN_SECONDS);
  const target = `${rtmpBase}${streamPath}?sign=${sign}`;
  // tag 7 = FLV's AVC id: the tee muxer would otherwise pass the input's tag (e.g. MPEG-TS 0x1b) to flv.
  return [
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    '-tag:v',
    '7',
    '-an',
    '-f',
    'tee',
    `[f=flv:onfail=ignore]${target}|[f=null]-`,
  ];
}

/**
 * The live view's share of the supervisor's single pull. The supervisor fixes outputs when it
 * spawns ffmpeg, so the push is always on while a camera is pulled (stream copy to loopback: no
 * decoding, a few hundred kbit/s per camera); viewers attach and detach at the media server.
 */
export class LiveOutput implements StreamOutputProvider {
  readonly name = 'live';

  constructor(private readonly opts: { rtmpBase: () => string | null; secret: string; now?: () => number }) {}

  outputArgs(camera: SupervisedCamera): string[] {
    const base = this.opts.rtmpBase();
    if (!base) return [];
    return liveOutputArgs(base, camera.id, this.opts.secret, (this.opts.now ?? Date.now)());
  }
}

/**
 * Typed access to the `onvif` npm package (it ships no types), used to check the lab against a
 * client nobody here wrote.
 */
import { createRequire } from 'node:module';

export interface OnvifCamOptions {
  hostname: string;
  port: number;
  username?: string;
  password?: string;
  path?: string;
  timeout?: number;
  autoconnect?: boolean;
}

export interface OnvifProfile {
  $: { token: string };
  name: string;
  videoEncoderConfiguration?: {
    encoding: string;
    resolution: { width: number; height: number };
    rateControl?: { frameRateLimit: number; bitrateLimit: number };
  };
}

type Cb<T> = (err: Error | null, value: T) => void;

export interface OnvifCam {
  connect(cb: (err: Error | null) => void): void;
  getSystemDateAndTime(cb: Cb<Date>): void;
  getDeviceInformation(cb: Cb<{ manufacturer: string; model: string; serialNumber: string }>): void;
  getProfiles(cb: Cb<OnvifProfile[]>): void;
  getStreamUri(o: { protocol: string; profileToken: string }, cb: Cb<{ uri: string }>): void;
  getSnapshotUri(o: { profileToken: string }, cb: Cb<{ uri: string }>): void;
  profiles: OnvifProfile[];
  hostname: string;
  port: number;
}

export interface OnvifModule {
  Cam: new (o: OnvifCamOptions, cb?: (err: Error | null) => void) => OnvifCam;
  Discovery: {
    probe(
      o: { timeout?: number; resolve?: boolean },
      cb: (err: Error | null, cams: OnvifCam[]) => void,
    ): void;
    on(event: 'error', fn: (e: unknown) => void): void;
  };
}

export const onvif = createRequire(import.meta.url)('onvif') as OnvifModule;

/** Promisified call on a Cam: `call(cam, 'getProfiles')`. */
export function camCall<T>(fn: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

export async function connectCam(o: OnvifCamOptions): Promise<OnvifCam> {
  const cam = new onvif.Cam({ autoconnect: false, timeout: 10_000, ...o });
  await new Promise<void>((resolve, reject) => cam.connect((err) => (err ? reject(err) : resolve())));
  return cam;
}

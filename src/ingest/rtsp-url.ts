import { parseCameraUrl, formatCameraUrl, STREAM_SCHEMES } from './camera-address.js';

/** Credentials a camera URL carried, split from the URL that is safe to store and show. */
export interface SplitUrl {
  url: string;
  username: string | null;
  password: string | null;
}

const stored = { field: 'rtspUrl', from: 'operator' } as const;

export function splitCredentials(raw: string): SplitUrl {
  const u = parseCameraUrl(raw, STREAM_SCHEMES, stored);
  return { url: formatCameraUrl(u), username: u.username, password: u.password };
}

/** The URL ffmpeg needs: the stored one with credentials put back. */
export function withCredentials(url: string, username: string | null, password: string | null): string {
  const u = parseCameraUrl(url, STREAM_SCHEMES, stored);
  return formatCameraUrl({ ...u, username, password }, true);
}

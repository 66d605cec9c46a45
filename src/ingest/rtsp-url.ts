/** Credentials a camera URL carried, split from the URL that is safe to store and show. */
export interface SplitUrl {
  url: string;
  username: string | null;
  password: string | null;
}

export function splitCredentials(raw: string): SplitUrl {
  const url = new URL(raw);
  const username = url.username ? decodeURIComponent(url.username) : null;
  const password = url.password ? decodeURIComponent(url.password) : null;
  url.username = '';
  url.password = '';
  return { url: url.toString(), username, password };
}

/** The URL ffmpeg needs: the stored one with credentials put back. */
export function withCredentials(stored: string, username: string | null, password: string | null): string {
  if (!username) return stored;
  const url = new URL(stored);
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password ?? '');
  return url.toString();
}

/** Readers of what ffmpeg prints: the per-packet log, the frame info and the reason a pull ended. */

export interface PacketInfo {
  /** Presentation time in seconds (stream time base applied). */
  ptsSec: number | null;
  size: number;
  keyframe: boolean;
}

/**
 * One line of the framecrc log: `0, dts, pts, duration, size, 0xcrc[, F=0x..]`. Header lines
 * (`#tb 0: 1/90000`) set the time base, returned as `timeBase`.
 */
export function parseFrameCrcLine(
  line: string,
  timeBase: number,
): { packet?: PacketInfo; timeBase?: number } {
  if (line.startsWith('#')) {
    const tb = /^#tb \d+: (\d+)\/(\d+)/.exec(line);
    return tb ? { timeBase: Number(tb[1]) / Number(tb[2]) } : {};
  }
  const parts = line.split(',').map((p) => p.trim());
  if (parts.length < 6) return {};
  const pts = Number(parts[2]);
  const size = Number(parts[4]);
  if (!Number.isFinite(size)) return {};
  const flags = parts[6] ?? '';
  // framecrc prints F= only for flags other than a plain keyframe.
  const keyframe = !flags.startsWith('F=') || (parseInt(flags.slice(2), 16) & 1) === 1;
  return { packet: { ptsSec: Number.isFinite(pts) ? pts * timeBase : null, size, keyframe } };
}

/** The decoded size of a sampled frame, from showinfo (`... s:1280x720 ...`) or the input's stream line. */
export function parseFrameSize(line: string): { width: number; height: number } | null {
  const m =
    /showinfo.*\bs:(\d+)x(\d+)\b/.exec(line) ?? /Stream #0:\d+.*: Video: .*?(\d{2,5})x(\d{2,5})/.exec(line);
  return m ? { width: Number(m[1]), height: Number(m[2]) } : null;
}

export type PullFailure =
  | 'auth_refused'
  | 'not_found'
  | 'connection_refused'
  | 'host_unreachable'
  | 'timeout'
  | 'stream_ended'
  | 'unsupported'
  | 'error';

/** Why an ffmpeg/ffprobe run against a camera failed, read from its stderr. */
export function classifyFailure(stderr: string): { reason: PullFailure; detail: string } {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const find = (re: RegExp) => lines.find((l) => re.test(l));
  const rules: [PullFailure, RegExp][] = [
    ['auth_refused', /401 Unauthorized|\b401\b.*(auth|unauthori)/i],
    ['not_found', /404 Not Found|\b404\b|Server returned 4\d\d/i],
    ['connection_refused', /Connection refused/i],
    [
      'host_unreachable',
      /No route to host|Network is unreachable|Name or service not known|Host is unreachable/i,
    ],
    ['timeout', /timed out|Connection timed out|timeout/i],
    ['unsupported', /Unsupported codec|could not find codec|Decoder .* not found/i],
    ['stream_ended', /End of file|Connection reset|Broken pipe|error while reading|Invalid data found/i],
  ];
  for (const [reason, re] of rules) {
    const line = find(re);
    if (line) return { reason, detail: tidy(line) };
  }
  const last = lines.at(-1);
  return { reason: 'error', detail: last ? tidy(last) : 'ffmpeg exited' };
}

/** A stable, readable message: no component addresses, log levels or URL options that vary per run. */
function tidy(line: string): string {
  return stripUrlCredentials(line)
    .replace(/\[[^\]]*@ 0x[0-9a-f]+\]\s*/gi, '')
    .replace(/\[(fatal|error|warning|info|verbose|debug)\]\s*/gi, '')
    .replace(/\?timeout=\d+/g, '')
    .trim()
    .slice(0, 300);
}

/** ffmpeg echoes the input URL in messages; never let a password reach logs or the API. */
export function stripUrlCredentials(text: string): string {
  return text.replace(/(rtsps?:\/\/)[^/@\s]*@/gi, '$1');
}

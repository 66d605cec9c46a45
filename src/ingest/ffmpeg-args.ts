/** ffmpeg and ffprobe command lines, built as data so they are tested without running anything. */

/** ffmpeg's RTSP socket timeout is in microseconds (ffmpeg 5.1 `-timeout`). */
export const micros = (ms: number): string => String(Math.max(1, Math.round(ms)) * 1000);

export interface PullOptions {
  /** The camera's main stream, with credentials. */
  url: string;
  ioTimeoutMs: number;
  /** Output arguments of each registered consumer (recording, live view), in order. */
  outputs: string[][];
  /** The low-resolution grey frames of the picture checks. */
  sample: { width: number; height: number; fps: number };
}

/** Input options shared by every RTSP read: TCP interleaved (no UDP loss), bounded waits. */
export function rtspInputArgs(url: string, ioTimeoutMs: number): string[] {
  return ['-rtsp_transport', 'tcp', '-timeout', micros(ioTimeoutMs), '-i', url];
}

/**
 * The one pull of a camera: `-c copy` outputs of every consumer, then the supervisor's own two
 * outputs: a per-packet log of the untouched stream on fd 3 (arrival, timestamps, sizes: fps,
 * bitrate, stalls) and scaled grey frames on stdout for the picture checks. showinfo reports the
 * decoded resolution of each sampled frame on stderr, so a resolution change mid-stream is seen.
 */
export function pullArgs(o: PullOptions): string[] {
  const { width, height, fps } = o.sample;
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+info',
    '-analyzeduration',
    '2000000',
    ...rtspInputArgs(o.url, o.ioTimeoutMs),
    ...o.outputs.flat(),
    ...['-map', '0:v:0', '-c', 'copy', '-f', 'framecrc', '-flush_packets', '1', 'pipe:3'],
    ...['-map', '0:v:0', '-vf', `fps=${fps},showinfo,scale=${width}:${height},format=gray`],
    ...['-f', 'rawvideo', 'pipe:1'],
  ];
}

/** ffprobe of the first video stream of an RTSP URL, as JSON. */
export function probeArgs(url: string, timeoutMs: number): string[] {
  return [
    '-v',
    'error',
    '-rtsp_transport',
    'tcp',
    '-timeout',
    micros(timeoutMs),
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height,avg_frame_rate,r_frame_rate',
    '-of',
    'json',
    url,
  ];
}

/**
 * One JPEG of the current picture from an RTSP stream. Only keyframes are decoded, and the first is
 * skipped: a session that joins mid-stream may receive the first one incomplete and conceal the rest.
 */
export function rtspSnapshotArgs(url: string, ioTimeoutMs: number): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-skip_frame',
    'nokey',
    ...rtspInputArgs(url, ioTimeoutMs),
    '-vf',
    'select=gte(n\\,1)',
    '-frames:v',
    '1',
    '-q:v',
    '4',
    '-c:v',
    'mjpeg',
    '-f',
    'image2pipe',
    'pipe:1',
  ];
}

/** A JPEG (on stdin) scaled to the picture checks' grey frame, raw on stdout. */
export function jpegToGrayArgs(width: number, height: number): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    '-i',
    'pipe:0',
    '-frames:v',
    '1',
    '-vf',
    `scale=${width}:${height},format=gray`,
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}

/** ffmpeg and ffprobe command lines, built as data so they are tested without running anything. */

/** ffmpeg's RTSP socket timeout is in microseconds (ffmpeg 5.1 `-timeout`). */
export const micros = (ms: number): string => String(Math.max(1, Math.round(ms)) * 1000);

export interface PullOptions {
  ioTimeoutMs: number;
  /** Output arguments of each registered consumer (recording, live view), in order. */
  outputs: string[][];
  /** The low-resolution grey frames of the picture checks. */
  sample: { width: number; height: number; fps: number };
}

/**
 * Protocols a camera input may use: the list on stdin, and TCP (TLS for rtsps) under RTSP. Anything
 * else a URL names (file:, http:, concat:, ...) is refused by ffmpeg itself.
 */
export const CAMERA_PROTOCOLS = 'pipe,tcp,tls';

/**
 * Every camera read takes its address from a one-entry ffconcat list on stdin, so the credentials in
 * it never appear on a command line (ffmpeg 5.1 has no other way to give RTSP credentials).
 */
export function cameraInputArgs(): string[] {
  return ['-f', 'concat', '-safe', '0', '-protocol_whitelist', CAMERA_PROTOCOLS, '-i', 'pipe:0'];
}

/**
 * The list for `cameraInputArgs`: the URL (rebuilt by camera-address, so no quotes or line breaks)
 * and the RTSP options, TCP interleaved (no UDP loss) with bounded waits.
 */
export function cameraInputList(url: string, ioTimeoutMs: number): string {
  if (/['\\\r\n]/.test(url)) throw new Error('camera URL must be rebuilt before it reaches ffmpeg');
  return [
    'ffconcat version 1.0',
    `file '${url}'`,
    'option rtsp_transport tcp',
    `option timeout ${micros(ioTimeoutMs)}`,
    '',
  ].join('\n');
}

/**
 * The list of a camera's long-running pulls (supervision, live relay): packets are stamped with the
 * time ffmpeg reads them, not with the camera's timestamps. Those jump whenever the camera restarts
 * its stream for another client (gst-rtsp-server seeks a shared stream to each new viewer's
 * `Range: npt=0-`) or re-syncs its clock; ffmpeg then clamps every later packet to the highest
 * timestamp seen until the camera catches up, which froze the frame rate, the picture samples, the
 * recording's timing and the live picture.
 */
export function pullInputList(url: string, ioTimeoutMs: number): string {
  return `${cameraInputList(url, ioTimeoutMs)}option use_wallclock_as_timestamps 1\n`;
}

/** Decoding for the picture checks: keyframes only, on one thread (the cost per camera, issue 11). */
export const SAMPLE_DECODE_ARGS = ['-threads', '1', '-skip_frame', 'nokey'];

/**
 * The grey frames of the picture checks: at most `fps` a second, scaled by pixel area (each sample
 * pixel the mean of the pixels it covers: sensor noise averages out, and a defocus is not hidden by
 * the aliasing of a nearest-pixel scale), raw on stdout. showinfo reports the decoded resolution of
 * each sample on stderr, so a resolution change mid-stream is seen.
 */
export function pictureSampleArgs(sample: { width: number; height: number; fps: number }): string[] {
  const select = `select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${round3(0.9 / sample.fps)})'`;
  return [
    ...['-map', '0:v:0', '-vf', `${select},showinfo,${sampleScale(sample.width, sample.height)}`],
    ...['-fps_mode', 'passthrough', '-f', 'rawvideo', 'pipe:1'],
  ];
}

/** One scale for every grey frame (samples and references alike), so their measures compare. */
const sampleScale = (width: number, height: number) => `scale=${width}:${height}:flags=area,format=gray`;

/** A per-packet log of the untouched stream on fd 3 (arrival, timestamps, sizes: fps, bitrate, stalls). */
export const PACKET_LOG_ARGS = [
  '-map',
  '0:v:0',
  '-c',
  'copy',
  '-f',
  'framecrc',
  '-flush_packets',
  '1',
  'pipe:3',
];

/**
 * The one pull of a camera: `-c copy` outputs of every consumer, then the supervisor's own two
 * outputs: the packet log and the picture samples. Only keyframes are decoded: a keyframe stands
 * alone, so no sample is smeared by a join mid-GOP, and decoding is a fraction of decoding every frame.
 */
export function pullArgs(o: PullOptions): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'level+info',
    '-analyzeduration',
    '2000000',
    ...SAMPLE_DECODE_ARGS,
    ...cameraInputArgs(),
    ...o.outputs.flat(),
    ...PACKET_LOG_ARGS,
    ...pictureSampleArgs(o.sample),
  ];
}

/** The same packet log and samples from a recorded clip, as fast as it decodes (the picture bench). */
export function clipSampleArgs(
  path: string,
  sample: { width: number; height: number; fps: number },
): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'level+info'],
    ...SAMPLE_DECODE_ARGS,
    ...['-i', path, ...PACKET_LOG_ARGS, ...pictureSampleArgs(sample)],
  ];
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * One JPEG of the current picture from an RTSP stream. Only keyframes are decoded, and the first is
 * skipped: a session that joins mid-stream may receive the first one incomplete and conceal the rest.
 */
export function rtspSnapshotArgs(): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-skip_frame',
    'nokey',
    ...cameraInputArgs(),
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
    sampleScale(width, height),
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}

/** ffmpeg and ffprobe command lines of the recording module, as data (tested by asserting the argv). */

/** fMP4 flags: a fragment per keyframe, so a crash mid-segment leaves every complete GOP playable. */
export const FRAGMENTED_MOVFLAGS = '+frag_keyframe+empty_moov+default_base_moof';

export interface SegmentOutputOptions {
  /** Spool directory of this camera. */
  dir: string;
  /** Epoch ms of the pull start; names the segment files and list of this pull. */
  pullId: number;
  segmentSeconds: number;
}

export const segmentPattern = (o: SegmentOutputOptions) => `${o.dir}/${o.pullId}_%06d.mp4`;
export const segmentListPath = (o: SegmentOutputOptions) => `${o.dir}/${o.pullId}.csv`;

/**
 * Output options the stream supervisor appends after its `-i <camera>`: the first video stream copied
 * into keyframe-aligned fragmented MP4 segments; the CSV list gets a line as each segment closes.
 */
export function segmentOutputArgs(o: SegmentOutputOptions): string[] {
  return [
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    '-f',
    'segment',
    '-segment_time',
    String(o.segmentSeconds),
    '-segment_format',
    'mp4',
    '-segment_format_options',
    `movflags=${FRAGMENTED_MOVFLAGS}`,
    '-reset_timestamps',
    '1',
    '-segment_list',
    segmentListPath(o),
    '-segment_list_type',
    'csv',
    segmentPattern(o),
  ];
}

/** Decodes every frame and discards it: any error output means the file is damaged. */
export function verifyDecodeArgs(file: string): string[] {
  return ['-v', 'error', '-nostdin', '-i', file, '-map', '0:v:0', '-f', 'null', '-'];
}

/**
 * One stored segment as MPEG-TS for HLS, its timestamps moved to its place on the playlist's
 * timeline so players see one continuous clock.
 */
export function hlsSegmentArgs(input: string, offsetSeconds: number): string[] {
  return [
    '-v',
    'error',
    '-nostdin',
    '-i',
    input,
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-bsf:v',
    'h264_mp4toannexb',
    '-output_ts_offset',
    offsetSeconds.toFixed(3),
    '-f',
    'mpegts',
    'pipe:1',
  ];
}

/**
 * One MP4 of a span by stream copy over a concat list (read from stdin); cut points snap to
 * keyframes. Fragmented, so it can be streamed to the client as it is produced.
 */
export function exportArgs(): string[] {
  return [
    '-v',
    'error',
    '-nostdin',
    '-f',
    'concat',
    '-safe',
    '0',
    '-protocol_whitelist',
    'file,pipe,http,https,tcp,tls,crypto',
    '-i',
    'pipe:0',
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-movflags',
    FRAGMENTED_MOVFLAGS,
    '-f',
    'mp4',
    'pipe:1',
  ];
}

/** The concat demuxer script of an export: files in order, first and last trimmed. */
export function concatScript(items: { url: string; inpoint?: number; outpoint?: number }[]): string {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const lines = ['ffconcat version 1.0'];
  for (const it of items) {
    lines.push(`file ${quote(it.url)}`);
    if (it.inpoint !== undefined && it.inpoint > 0) lines.push(`inpoint ${it.inpoint.toFixed(3)}`);
    if (it.outpoint !== undefined) lines.push(`outpoint ${it.outpoint.toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

import { describe, expect, it } from 'vitest';
import {
  concatScript,
  exportArgs,
  hlsSegmentArgs,
  segmentOutputArgs,
} from '../../src/recording/ffmpeg-args.js';
import { parseRange, hlsPlaylist } from '../../src/recording/playback.js';
import { gapReason, uncovered } from '../../src/recording/segment-index.js';
import { objectKey } from '../../src/recording/segment-uploader.js';
import { assertSafeKey } from '../../src/recording/footage-store.js';
import { parseReadyName, parseSegmentList } from '../../src/recording/spool.js';
import type { SegmentRow } from '../../src/recording/segment-index.js';

describe('recording command lines and pure helpers', () => {
  it('builds the segment muxer output', () => {
    expect(segmentOutputArgs({ dir: '/d/spool/cam', pullId: 1700000000000, segmentSeconds: 10 })).toEqual([
      '-map',
      '0:v:0',
      '-c:v',
      'copy',
      '-f',
      'segment',
      '-segment_time',
      '10',
      '-segment_format',
      'mp4',
      '-segment_format_options',
      'movflags=+frag_keyframe+empty_moov+default_base_moof',
      '-reset_timestamps',
      '1',
      '-segment_list',
      '/d/spool/cam/1700000000000.csv',
      '-segment_list_type',
      'csv',
      '/d/spool/cam/1700000000000_%06d.mp4',
    ]);
  });

  it('builds HLS segment and export command lines', () => {
    expect(hlsSegmentArgs('/f.mp4', 12.5)).toEqual([
      '-v',
      'error',
      '-nostdin',
      '-i',
      '/f.mp4',
      '-map',
      '0:v:0',
      '-c',
      'copy',
      '-bsf:v',
      'h264_mp4toannexb',
      '-output_ts_offset',
      '12.500',
      '-f',
      'mpegts',
      'pipe:1',
    ]);
    expect(exportArgs()).toContain('concat');
    expect(
      concatScript([
        { url: "/a'b.mp4", inpoint: 1.5 },
        { url: 'http://s/x', outpoint: 3 },
      ]),
    ).toBe("ffconcat version 1.0\nfile '/a'\\''b.mp4'\ninpoint 1.500\nfile 'http://s/x'\noutpoint 3.000\n");
  });

  it('parses segment lists and spool names', () => {
    expect(parseSegmentList('a_000000.mp4,0.000000,2.000000\nb,2.0,4.5\npartial')).toEqual([
      { file: 'a_000000.mp4', start: 0, end: 2 },
      { file: 'b', start: 2, end: 4.5 },
    ]);
    expect(parseReadyName('1700000000123_2000.mp4')).toEqual({ startMs: 1700000000123, durationMs: 2000 });
    expect(parseReadyName('../x.mp4')).toBeNull();
  });

  it('makes safe, dated object keys', () => {
    const key = objectKey('u1', 's1', 'c1', Date.UTC(2024, 0, 2, 3, 4, 5), 10_000);
    expect(key).toBe(`u1/s1/c1/2024/01/02/${Date.UTC(2024, 0, 2, 3, 4, 5)}_10000.mp4`);
    expect(() => assertSafeKey(key)).not.toThrow();
    expect(() => assertSafeKey('../etc/passwd')).toThrow();
    expect(() => assertSafeKey('/abs/key')).toThrow();
  });

  it('parses byte ranges', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
  });

  it('finds spans no gap covers and names reasons', () => {
    const g = (a: number, b: number | null) => ({
      started_at: new Date(a),
      ended_at: b === null ? null : new Date(b),
    });
    expect(uncovered(0, 100, [])).toEqual([[0, 100]]);
    expect(uncovered(0, 100, [g(10, 20), g(15, 40), g(90, 200)])).toEqual([
      [0, 10],
      [40, 90],
    ]);
    expect(uncovered(0, 100, [g(-5, null)])).toEqual([]);
    expect(gapReason('stall timeout 2000 ms')).toBe('stalled');
    expect(gapReason('connection refused')).toBe('offline');
  });

  it('writes an HLS playlist with discontinuities at gaps', () => {
    const seg = (id: string, a: number, b: number) =>
      ({ id, started_at: new Date(a), ended_at: new Date(b) }) as SegmentRow;
    const t = Date.UTC(2024, 0, 1);
    const m3u8 = hlsPlaylist([
      seg('a', t, t + 2000),
      seg('b', t + 2000, t + 4000),
      seg('c', t + 9000, t + 11000),
    ]);
    expect(m3u8).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(m3u8.match(/#EXT-X-DISCONTINUITY/g)).toHaveLength(1);
    expect(m3u8).toContain('../../recordings/c/segment.ts?offset=9.000');
    expect(m3u8.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
  });
});

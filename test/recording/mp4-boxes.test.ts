import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAGMENTED_MOVFLAGS } from '../../src/recording/ffmpeg-args.js';
import { videoTrackInfo } from '../../src/recording/mp4-boxes.js';

describe('videoTrackInfo: codec and size from a segment’s own moov', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ess-mp4-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('answers what ffprobe says for a fragmented H.264 segment', async () => {
    const file = path.join(dir, 'seg.mp4');
    await promisify(execFile)('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=352x288:rate=10', '-frames:v', '20'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', FRAGMENTED_MOVFLAGS, file],
    ]);
    expect(await videoTrackInfo(file)).toEqual({ codec: 'h264', width: 352, height: 288 });
  });

  it('finds a moov after a long mdat too (an MP4 that is not fragmented)', async () => {
    const file = path.join(dir, 'plain.mp4');
    await promisify(execFile)('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-frames:v', '100'],
      ...['-c:v', 'libx264', '-b:v', '2M', '-pix_fmt', 'yuv420p', file],
    ]);
    expect((await stat(file)).size).toBeGreaterThan(64 * 1024); // past the one read of the file's start
    expect(await videoTrackInfo(file)).toEqual({ codec: 'h264', width: 320, height: 240 });
  });

  it('answers null for a file that is not an MP4', async () => {
    const file = path.join(dir, 'junk.mp4');
    await writeFile(file, Buffer.alloc(4096, 7));
    expect(await videoTrackInfo(file)).toBeNull();
  });
});

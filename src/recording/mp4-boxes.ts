import { open } from 'node:fs/promises';

/** Top-level MP4 boxes of a file: type, offset, size (bytes declared by the box header). */
export interface Box {
  type: string;
  offset: number;
  size: number;
}

/**
 * Reads the top-level box headers; stops at the first box that does not fit in the file
 * (a segment cut short by a crash), returned as `truncatedAt`.
 */
export async function topLevelBoxes(
  file: string,
): Promise<{ boxes: Box[]; fileSize: number; truncatedAt: number | null }> {
  const fh = await open(file, 'r');
  try {
    const fileSize = (await fh.stat()).size;
    const boxes: Box[] = [];
    const head = Buffer.alloc(16);
    let offset = 0;
    while (offset < fileSize) {
      if (fileSize - offset < 8) return { boxes, fileSize, truncatedAt: offset };
      await fh.read(head, 0, 16, offset);
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1) {
        if (fileSize - offset < 16) return { boxes, fileSize, truncatedAt: offset };
        size = Number(head.readBigUInt64BE(8));
      } else if (size === 0) {
        size = fileSize - offset;
      }
      if (size < 8 || offset + size > fileSize) return { boxes, fileSize, truncatedAt: offset };
      boxes.push({ type, offset, size });
      offset += size;
    }
    return { boxes, fileSize, truncatedAt: null };
  } finally {
    await fh.close();
  }
}

/**
 * How many leading bytes of a fragmented MP4 are sound: ftyp+moov and then only whole moof+mdat
 * pairs. 0 when not even the header and one fragment survived.
 */
export function soundLength(boxes: Box[]): number {
  const moov = boxes.findIndex((b) => b.type === 'moov');
  if (moov < 0) return 0;
  let end = 0;
  for (let i = moov + 1; i < boxes.length; i++) {
    const b = boxes[i]!;
    if (b.type === 'moof') {
      const next = boxes[i + 1];
      if (!next || next.type !== 'mdat') break;
      end = next.offset + next.size;
      i++;
    }
  }
  return end;
}

/** Size of the initialisation part (everything before the first fragment), for HLS EXT-X-MAP. */
export function initLength(boxes: Box[]): number {
  const first = boxes.find((b) => b.type === 'moof');
  return first ? first.offset : 0;
}

const CODEC_BY_SAMPLE_ENTRY: Record<string, string> = {
  avc1: 'h264',
  avc3: 'h264',
  hvc1: 'hevc',
  hev1: 'hevc',
  mp4v: 'mpeg4',
};

/** Child boxes inside a box's payload (from `start` to `end` of `buf`). */
function* children(
  buf: Buffer,
  start: number,
  end: number,
): Generator<{ type: string; start: number; end: number }> {
  let at = start;
  while (at + 8 <= end) {
    const size = buf.readUInt32BE(at);
    if (size < 8 || at + size > end) return;
    yield { type: buf.toString('latin1', at + 4, at + 8), start: at + 8, end: at + size };
    at += size;
  }
}

/** Enough of a fragmented segment's start to hold its ftyp and moov (a moov is a few hundred bytes). */
const HEAD_BYTES = 64 * 1024;

/**
 * Codec and picture size of the first video track, read from the segment's own `moov` (what a
 * per-segment ffprobe would say, without starting a process); null when the file has none.
 */
export async function videoTrackInfo(
  file: string,
): Promise<{ codec: string; width: number; height: number } | null> {
  const fh = await open(file, 'r');
  try {
    // Our segments keep the moov at the start (empty_moov): one read, not one per fragment.
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, HEAD_BYTES, 0);
    for (const box of children(head, 0, bytesRead))
      if (box.type === 'moov') return firstVideoTrack(head, box.start, box.end);
    // Any other MP4: find the moov among the top-level boxes.
    const moov = (await topLevelBoxes(file)).boxes.find((b) => b.type === 'moov');
    if (!moov || moov.size > 1 << 20) return null;
    const buf = Buffer.alloc(moov.size);
    await fh.read(buf, 0, moov.size, moov.offset);
    return firstVideoTrack(buf, 8, moov.size);
  } finally {
    await fh.close();
  }
}

/** The first visual sample entry under moov/trak/mdia/minf/stbl/stsd (the moov payload is `start`–`end`). */
function firstVideoTrack(
  buf: Buffer,
  start: number,
  end: number,
): { codec: string; width: number; height: number } | null {
  const path = ['trak', 'mdia', 'minf', 'stbl', 'stsd'];
  const walk = (from: number, to: number, depth: number): ReturnType<typeof sampleEntry> => {
    for (const box of children(buf, from, to)) {
      if (box.type !== path[depth]) continue;
      const found =
        depth === path.length - 1 ? sampleEntry(box.start, box.end) : walk(box.start, box.end, depth + 1);
      if (found) return found;
    }
    return null;
  };
  // stsd: version/flags (4) and entry count (4), then sample entries; a visual entry keeps its
  // width and height 24 bytes into its payload.
  const sampleEntry = (from: number, to: number) => {
    for (const entry of children(buf, from + 8, to)) {
      const codec = CODEC_BY_SAMPLE_ENTRY[entry.type];
      if (codec && entry.start + 28 <= entry.end)
        return {
          codec,
          width: buf.readUInt16BE(entry.start + 24),
          height: buf.readUInt16BE(entry.start + 26),
        };
    }
    return null;
  };
  return walk(start, end, 0);
}

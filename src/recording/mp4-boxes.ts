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

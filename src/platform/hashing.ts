import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';

/** SHA-256 (hex) and length of some bytes. */
export interface Digest {
  sha256: string;
  bytes: number;
}

/** SHA-256 and length of a stream of bytes (a Readable), read to its end; nothing is held in memory. */
export async function sha256Stream(source: AsyncIterable<unknown>): Promise<Digest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of source) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
    hash.update(b);
    bytes += b.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Read size for hashing files: a 10 s segment in two or three reads, not thirty (the cost per camera). */
const FILE_READ_BYTES = 1 << 20;

/** SHA-256 and length of a file. */
export function sha256File(file: string): Promise<Digest> {
  return sha256Stream(createReadStream(file, { highWaterMark: FILE_READ_BYTES }));
}

/**
 * A pass-through that hashes what flows through it, for bytes hashed on their way somewhere else
 * (`pipeline(source, tap, target)`); `digest()` once the pipeline has finished.
 */
export class Sha256Tap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }

  digest(): Digest {
    return { sha256: this.hash.digest('hex'), bytes: this.bytes };
  }
}

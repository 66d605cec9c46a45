import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { clipSampleArgs } from '../src/ingest/ffmpeg-args.js';
import { parseFrameCrcLine, type PacketInfo } from '../src/ingest/ffmpeg-output.js';
import type { GrayFrame } from '../src/ingest/picture.js';

export interface ClipSamples {
  /** The picture samples, with their time in the clip (s). */
  samples: { t: number; frame: GrayFrame }[];
  packets: PacketInfo[];
}

/**
 * Reads a recorded clip the way the service reads a camera (the pull's packet log and picture
 * samples, same ffmpeg arguments), as fast as it decodes. A sample's time is its presentation time.
 */
export async function clipSamples(
  path: string,
  sample: { width: number; height: number; fps: number },
): Promise<ClipSamples> {
  const ff = spawn('ffmpeg', clipSampleArgs(path, sample), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const [, stdout, stderr, log] = ff.stdio as unknown as [null, Readable, Readable, Readable];
  const exited = once(ff, 'close') as Promise<[number | null]>;
  const packets: PacketInfo[] = [];
  let timeBase = 1 / 1000;
  createInterface({ input: log }).on('line', (line) => {
    const parsed = parseFrameCrcLine(line, timeBase);
    if (parsed.timeBase) timeBase = parsed.timeBase;
    if (parsed.packet) packets.push(parsed.packet);
  });
  const times: number[] = [];
  let tail = '';
  createInterface({ input: stderr }).on('line', (line) => {
    const m = /showinfo.*\bpts_time:\s*([\d.]+)/.exec(line);
    if (m) times.push(Number(m[1]));
    else if (!/showinfo|^\s/.test(line)) tail = (tail + line + '\n').slice(-2000);
  });
  const size = sample.width * sample.height;
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const [code] = await exited;
  if (code !== 0) throw new Error(`sampling ${path} failed (${code}): ${tail.trim()}`);
  const all = Buffer.concat(chunks);
  const samples = times.slice(0, Math.floor(all.length / size)).map((t, i) => ({
    t,
    frame: {
      width: sample.width,
      height: sample.height,
      data: new Uint8Array(all.subarray(i * size, (i + 1) * size)),
    },
  }));
  return { samples, packets };
}

/** clipSamples, kept next to the clip (raw samples and a JSON index), so a rerun reads no video. */
export async function cachedClipSamples(
  path: string,
  sample: { width: number; height: number; fps: number },
): Promise<ClipSamples> {
  const key = `${path}.${sample.width}x${sample.height}`;
  if (existsSync(`${key}.json`)) {
    const index = JSON.parse(await readFile(`${key}.json`, 'utf8')) as {
      times: number[];
      packets: PacketInfo[];
    };
    const raw = await readFile(`${key}.gray`);
    const size = sample.width * sample.height;
    return {
      packets: index.packets,
      samples: index.times.map((t, i) => ({
        t,
        frame: {
          width: sample.width,
          height: sample.height,
          data: new Uint8Array(raw.subarray(i * size, (i + 1) * size)),
        },
      })),
    };
  }
  const data = await clipSamples(path, sample);
  await writeFile(`${key}.gray`, Buffer.concat(data.samples.map((s) => s.frame.data)));
  await writeFile(
    `${key}.json`,
    JSON.stringify({ times: data.samples.map((s) => s.t), packets: data.packets }),
  );
  return data;
}

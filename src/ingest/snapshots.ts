import { createHash, randomBytes } from 'node:crypto';
import { systemActor, type Actor } from '../access/actor.js';
import { canWriteUnit } from '../access/policy.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../platform/db.js';
import { DeviceError, ForbiddenError, NotFoundError } from '../platform/errors.js';
import {
  checkStoredStream,
  formatCameraUrl,
  HTTP_SCHEMES,
  type NetworkPolicy,
  parseCameraUrl,
} from './camera-address.js';
import type { CameraRegistry, CameraRow } from './cameras.js';
import { cameraInputList, jpegToGrayArgs, rtspSnapshotArgs } from './ffmpeg-args.js';
import { streamError } from './ffprobe.js';
import { stripUrlCredentials } from './ffmpeg-output.js';
import type { GrayFrame } from './picture.js';
import type { ProcessSupervisor } from '../platform/processes.js';

export interface ReferenceView {
  cameraId: string;
  width: number;
  height: number;
  takenAt: string;
  /** auto: taken by the service once the picture stayed healthy and still; operator: by someone. */
  source: 'auto' | 'operator';
}

export interface StoredReference {
  cameraId: string;
  frame: GrayFrame;
  takenAt: Date;
}

/**
 * Current pictures of a camera: a JPEG from the device's ONVIF snapshot address, or else one frame
 * of its (sub) stream; and the reference picture the picture checks compare with.
 */
export class CameraSnapshots {
  constructor(
    private readonly db: Db,
    private readonly registry: CameraRegistry,
    private readonly audit: AuditLog,
    private readonly processes: ProcessSupervisor,
    private readonly o: {
      ffmpegPath: string;
      timeoutMs: number;
      sample: { width: number; height: number };
      policy: NetworkPolicy;
      /** Largest snapshot JPEG read from a device. */
      maxBytes: number;
    },
  ) {}

  async snapshot(actor: Actor, cameraId: string): Promise<Buffer> {
    return this.jpeg(await this.registry.getRow(actor, cameraId));
  }

  /** Takes the current picture as the camera's accepted view (an operator retakes it). */
  async setReference(actor: Actor, cameraId: string): Promise<ReferenceView> {
    const row = await this.registry.getRow(actor, cameraId);
    if (!canWriteUnit(actor, row.unit_id)) throw new ForbiddenError();
    // From the main stream the checks watch, not the device's snapshot encoder.
    const jpeg = await this.streamJpeg(row, 'main');
    const { width, height } = this.o.sample;
    const r = await this.processes.run('ffmpeg:reference', this.o.ffmpegPath, jpegToGrayArgs(width, height), {
      timeoutMs: this.o.timeoutMs,
      input: jpeg,
    });
    if (r.code !== 0 || r.stdout.length !== width * height)
      throw new DeviceError('snapshot_unreadable', 'the camera snapshot could not be decoded');
    return this.store(actor, row, { width, height, data: new Uint8Array(r.stdout) }, jpeg);
  }

  /**
   * Keeps a picture sample the checks took as the reference by themselves, with a JPEG of the main
   * stream for people to see (the sample itself is small and grey).
   */
  async keepAutoReference(cameraId: string, frame: GrayFrame): Promise<ReferenceView> {
    const row = await this.registry.getRow(systemActor, cameraId);
    return this.store(systemActor, row, frame, await this.streamJpeg(row, 'main'));
  }

  /** The camera's reference: when and how it was taken. */
  async reference(actor: Actor, cameraId: string): Promise<ReferenceView> {
    return (await this.referenceRow(actor, cameraId)).view;
  }

  /** The JPEG of the camera's reference picture. */
  async referenceJpeg(actor: Actor, cameraId: string): Promise<Buffer> {
    return (await this.referenceRow(actor, cameraId)).jpeg;
  }

  private async referenceRow(actor: Actor, cameraId: string): Promise<{ view: ReferenceView; jpeg: Buffer }> {
    const row = await this.registry.getRow(actor, cameraId);
    const [ref] = await this.db.query<{
      width: number;
      height: number;
      taken_at: Date;
      source: string;
      jpeg: Uint8Array;
    }>('SELECT width, height, taken_at, source, jpeg FROM camera_references WHERE camera_id = $1', [row.id]);
    if (!ref) throw new NotFoundError('reference');
    return {
      view: {
        cameraId: row.id,
        width: ref.width,
        height: ref.height,
        takenAt: ref.taken_at.toISOString(),
        source: ref.source === 'auto' ? 'auto' : 'operator',
      },
      jpeg: Buffer.from(ref.jpeg),
    };
  }

  private store(actor: Actor, row: CameraRow, frame: GrayFrame, jpeg: Buffer): Promise<ReferenceView> {
    const source = actor === systemActor ? 'auto' : 'operator';
    return this.db.transaction(async (tx) => {
      const [ref] = await tx.query<{ taken_at: Date }>(
        `INSERT INTO camera_references (camera_id, width, height, gray, jpeg, taken_by, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (camera_id) DO UPDATE SET width = $2, height = $3, gray = $4, jpeg = $5, taken_by = $6,
           source = $7, taken_at = date_trunc('milliseconds', clock_timestamp())
         RETURNING taken_at`,
        [
          row.id,
          frame.width,
          frame.height,
          Buffer.from(frame.data),
          jpeg,
          actor === systemActor ? null : actor.userId,
          source,
        ],
      );
      await this.audit.record(
        actor,
        {
          action: 'camera.reference',
          subjectType: 'camera',
          subjectId: row.id,
          details: { bytes: jpeg.length, source },
        },
        tx,
      );
      return {
        cameraId: row.id,
        width: frame.width,
        height: frame.height,
        takenAt: ref!.taken_at.toISOString(),
        source,
      };
    });
  }

  /** References of the given cameras, for the picture checks of an ingest process. */
  async references(cameraIds: string[]): Promise<StoredReference[]> {
    if (cameraIds.length === 0) return [];
    const rows = await this.db.query<{
      camera_id: string;
      width: number;
      height: number;
      gray: Uint8Array;
      taken_at: Date;
    }>('SELECT camera_id, width, height, gray, taken_at FROM camera_references WHERE camera_id = ANY($1)', [
      cameraIds,
    ]);
    return rows.map((r) => ({
      cameraId: r.camera_id,
      frame: { width: r.width, height: r.height, data: new Uint8Array(r.gray) },
      takenAt: r.taken_at,
    }));
  }

  private async jpeg(row: CameraRow): Promise<Buffer> {
    const creds = this.registry.credentials(row);
    if (row.snapshot_uri) {
      const jpeg = await fetchJpeg(row.snapshot_uri, creds, this.o).catch(() => null);
      if (jpeg) return jpeg;
    }
    return this.streamJpeg(row, 'sub');
  }

  private async streamJpeg(row: CameraRow, prefer: 'main' | 'sub'): Promise<Buffer> {
    const stream =
      row.streams.find((s) => s.profile === prefer) ?? row.streams.find((s) => s.profile === 'main');
    const url = this.registry.pullUrl(row, stream?.rtspUrl ?? row.rtsp_url);
    await checkStoredStream(this.o.policy, url);
    const r = await this.processes.run('ffmpeg:snapshot', this.o.ffmpegPath, rtspSnapshotArgs(), {
      timeoutMs: this.o.timeoutMs + 2000,
      input: cameraInputList(url, this.o.timeoutMs),
    });
    if (r.timedOut)
      throw new DeviceError(
        'stream_timeout',
        `${stripUrlCredentials(url)}: no picture within ${this.o.timeoutMs} ms`,
      );
    if (r.code !== 0 || r.stdout.length === 0)
      throw streamError(stripUrlCredentials(url), r.stderr, this.o.timeoutMs);
    return r.stdout;
  }
}

const SNAPSHOT = { field: 'snapshot address', from: 'device' } as const;

/**
 * GET a JPEG from a device's snapshot address, answering a Digest (or Basic) challenge as cameras
 * ask. The address is checked against the network policy, redirects are not followed (they could
 * lead anywhere), and the body is read as a stream up to `maxBytes`.
 */
export async function fetchJpeg(
  raw: string,
  creds: { username: string | null; password: string | null },
  o: { timeoutMs: number; policy: NetworkPolicy; maxBytes: number },
): Promise<Buffer> {
  const parsed = parseCameraUrl(raw, HTTP_SCHEMES, SNAPSHOT);
  await o.policy.check(parsed, SNAPSHOT);
  const url = formatCameraUrl(parsed);
  const signal = AbortSignal.timeout(o.timeoutMs);
  const get = (headers: Record<string, string> = {}) => fetch(url, { headers, signal, redirect: 'manual' });
  let res = await get();
  if (res.status === 401 && creds.username) {
    const challenge = res.headers.get('www-authenticate') ?? '';
    await res.body?.cancel();
    res = await get({ authorization: authorization(challenge, url, creds.username, creds.password ?? '') });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`snapshot ${res.status}`);
  }
  const body = await readBounded(res, o.maxBytes);
  if (body.length < 4 || body[0] !== 0xff || body[1] !== 0xd8) throw new Error('snapshot: not a JPEG');
  return body;
}

/** The body, or an error as soon as it grows past `maxBytes` (the rest is never read). */
export async function readBounded(res: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new Error(`reply larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += chunk.length;
    if (total > maxBytes) throw new Error(`reply larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function authorization(challenge: string, url: string, username: string, password: string): string {
  if (!/^Digest /i.test(challenge))
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const field = (k: string) => new RegExp(`${k}="?([^",]*)"?`, 'i').exec(challenge)?.[1] ?? '';
  const realm = field('realm');
  const nonce = field('nonce');
  const qop = field('qop').split(',')[0]?.trim();
  const uri = new URL(url).pathname + new URL(url).search;
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5(`${username}:${realm}:${password}`);
  const ha2 = md5(`GET:${uri}`);
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const response = qop ? md5(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
  const parts = [
    `username="${username}"`,
    `realm="${realm}"`,
    `nonce="${nonce}"`,
    `uri="${uri}"`,
    `response="${response}"`,
  ];
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  const opaque = field('opaque');
  if (opaque) parts.push(`opaque="${opaque}"`);
  return `Digest ${parts.join(', ')}`;
}

import { createHash, randomBytes } from 'node:crypto';
import type { Actor } from '../access/actor.js';
import { canWriteUnit } from '../access/scope.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Db } from '../platform/db.js';
import { DeviceError, ForbiddenError } from '../platform/errors.js';
import type { CameraRegistry, CameraRow } from './cameras.js';
import { jpegToGrayArgs, rtspSnapshotArgs } from './ffmpeg-args.js';
import { streamError } from './ffprobe.js';
import { stripUrlCredentials } from './ffmpeg-output.js';
import type { GrayFrame } from './picture.js';
import type { ProcessSupervisor } from './process-supervisor.js';

export interface ReferenceView {
  cameraId: string;
  width: number;
  height: number;
  takenAt: string;
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
    private readonly o: { ffmpegPath: string; timeoutMs: number; sample: { width: number; height: number } },
  ) {}

  async snapshot(actor: Actor, cameraId: string): Promise<Buffer> {
    return this.jpeg(await this.registry.getRow(actor, cameraId));
  }

  /** Takes the current picture as the camera's accepted view. */
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
    return this.db.transaction(async (tx) => {
      const [ref] = await tx.query<{ taken_at: Date }>(
        `INSERT INTO camera_references (camera_id, width, height, gray, jpeg, taken_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (camera_id) DO UPDATE SET width = $2, height = $3, gray = $4, jpeg = $5, taken_by = $6,
           taken_at = date_trunc('milliseconds', clock_timestamp())
         RETURNING taken_at`,
        [row.id, width, height, r.stdout, jpeg, actor.userId],
      );
      await this.audit.record(
        actor,
        {
          action: 'camera.reference',
          subjectType: 'camera',
          subjectId: row.id,
          details: { bytes: jpeg.length },
        },
        tx,
      );
      return { cameraId: row.id, width, height, takenAt: ref!.taken_at.toISOString() };
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
      const jpeg = await fetchJpeg(row.snapshot_uri, creds.username, creds.password, this.o.timeoutMs).catch(
        () => null,
      );
      if (jpeg) return jpeg;
    }
    return this.streamJpeg(row, 'sub');
  }

  private async streamJpeg(row: CameraRow, prefer: 'main' | 'sub'): Promise<Buffer> {
    const stream =
      row.streams.find((s) => s.profile === prefer) ?? row.streams.find((s) => s.profile === 'main');
    const url = this.registry.pullUrl(row, stream?.rtspUrl ?? row.rtsp_url);
    const r = await this.processes.run(
      'ffmpeg:snapshot',
      this.o.ffmpegPath,
      rtspSnapshotArgs(url, this.o.timeoutMs),
      {
        timeoutMs: this.o.timeoutMs + 2000,
      },
    );
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

/** GET a JPEG, answering a Digest (or Basic) challenge as cameras ask. */
export async function fetchJpeg(
  url: string,
  username: string | null,
  password: string | null,
  timeoutMs: number,
): Promise<Buffer> {
  const get = (headers: Record<string, string> = {}) =>
    fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  let res = await get();
  if (res.status === 401 && username) {
    const challenge = res.headers.get('www-authenticate') ?? '';
    await res.arrayBuffer();
    res = await get({ authorization: authorization(challenge, url, username, password ?? '') });
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (!res.ok || body.length < 4 || body[0] !== 0xff || body[1] !== 0xd8)
    throw new Error(`snapshot ${res.status}: not a JPEG`);
  return body;
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

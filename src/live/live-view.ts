import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../access/actor.js';
import { mayViewUnit, type Tenancy } from '../access/policy.js';
import type { UserService } from '../access/users.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CameraRegistry } from '../ingest/cameras.js';
import type { Clock } from '../platform/clock.js';
import { ForbiddenError, NotFoundError, UnavailableError } from '../platform/errors.js';
import { LIVE_APP } from './media-server.js';

/** Where browsers fetch live FLV: through the API, which checks the signature before any byte. */
export const MEDIA_PREFIX = '/media/live/';
const MEDIA_PATH = /^\/media\/live\/([0-9a-f-]{36})\.flv$/;

export interface LiveUrls {
  flvUrl: string;
  wsFlvUrl: string;
  expiresAt: string;
}

/**
 * Signed, short-lived live URLs and the gate in front of the media server. A URL is bound to a
 * camera, a user and an expiry by HMAC; at play time the user must still be allowed to watch.
 * Anything else gets 403 and no media (node-media-server's own sign check would answer 200).
 */
export class LiveView {
  constructor(
    private readonly deps: {
      /** Answered by access: the user a signed URL names, as an actor now. */
      users: Pick<UserService, 'actorOf'>;
      tenancy: Pick<Tenancy, 'isConfidential'>;
      cameras: CameraRegistry;
      audit: AuditLog;
      clock: Clock;
      key: Buffer;
      ttlSeconds: number;
      /** Base URL of the media server's HTTP-FLV side, or null when none is reachable. */
      mediaUrl: () => string | null;
    },
  ) {}

  sign(cameraId: string, userId: string, exp: number): string {
    return createHmac('sha256', this.deps.key).update(`${cameraId}.${userId}.${exp}`).digest('base64url');
  }

  async urls(actor: Actor, cameraId: string, base: string): Promise<LiveUrls> {
    await this.checkMayWatch(actor, cameraId);
    const exp = Math.floor(this.deps.clock.now().getTime() / 1000) + this.deps.ttlSeconds;
    const query = `uid=${encodeURIComponent(actor.userId)}&exp=${exp}&sig=${this.sign(cameraId, actor.userId, exp)}`;
    const path = `${MEDIA_PREFIX}${cameraId}.flv?${query}`;
    await this.deps.audit.record(actor, {
      action: 'camera.live_view',
      subjectType: 'camera',
      subjectId: cameraId,
      details: { expiresAt: new Date(exp * 1000).toISOString() },
    });
    return {
      flvUrl: `${base}${path}`,
      wsFlvUrl: `${base.replace(/^http/, 'ws')}${path}`,
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  /** 404 for cameras the actor cannot see; 403 for platform viewers of a confidential unit. */
  private async checkMayWatch(actor: Actor, cameraId: string): Promise<void> {
    const row = await this.deps.cameras.getRow(actor, cameraId);
    const unit = { id: row.unit_id, confidential: await this.deps.tenancy.isConfidential(row.unit_id) };
    if (!mayViewUnit(actor, unit))
      throw new ForbiddenError("a confidential unit's live video is not shown outside the unit");
  }

  /** Checks a media request's signature and that its user may still watch; throws 403 otherwise. */
  async verify(url: string): Promise<string> {
    const parsed = new URL(url, 'http://x');
    const m = MEDIA_PATH.exec(parsed.pathname);
    if (!m) throw new NotFoundError('stream');
    const cameraId = m[1]!;
    const uid = parsed.searchParams.get('uid') ?? '';
    const exp = Number(parsed.searchParams.get('exp'));
    const sig = Buffer.from(parsed.searchParams.get('sig') ?? '');
    const expected = Buffer.from(this.sign(cameraId, uid, exp));
    if (!Number.isInteger(exp) || sig.length !== expected.length || !timingSafeEqual(sig, expected))
      throw new ForbiddenError('bad live URL signature');
    if (exp * 1000 <= this.deps.clock.now().getTime()) throw new ForbiddenError('live URL has expired');
    const actor = await this.deps.users.actorOf(uid);
    if (!actor) throw new ForbiddenError('live URL user no longer exists');
    await this.checkMayWatch(actor, cameraId).catch((err: unknown) => {
      throw err instanceof ForbiddenError ? err : new ForbiddenError('user may no longer watch this camera');
    });
    return cameraId;
  }

  /** Where the media server serves a camera's FLV, for the gate to stream from. */
  upstream(cameraId: string): URL {
    const media = this.deps.mediaUrl();
    if (!media) throw new UnavailableError('no media server is reachable from this process');
    return new URL(`/${LIVE_APP}/${cameraId}.flv`, media);
  }
}

import { isIP } from 'node:net';
import { z } from 'zod';
import { cidrProblem, DEFAULT_CAMERA_NETWORKS } from '../src/ingest/camera-address.js';

const port = z.coerce.number().int().min(0).max(65535);
const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
/** A comma-separated list of CIDR blocks (a bare address counts as a single host). */
const cidrList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean)
      .map((c) => (c.includes('/') ? c : `${c}/${isIP(c) === 6 ? 128 : 32}`)),
  )
  .superRefine((list, ctx) => {
    for (const c of list) {
      const problem = cidrProblem(c);
      if (problem) ctx.addIssue({ code: 'custom', message: `${c} ${problem}` });
    }
  });
const roles = z
  .string()
  .transform((v) => v.split(',').map((r) => r.trim()))
  .pipe(z.array(z.enum(['api', 'ingest', 'worker'])).min(1));

/**
 * Deployment settings, read once from the environment at start. Every variable is listed in the
 * README; a wrong value stops the process with a message naming the variable.
 */
export const configSchema = z
  .object({
    PORT: port.default(8080),
    HOST: z.string().default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier')
      .default('public'),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(200).default(20),
    REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
    REDIS_SERVER_PATH: z.string().default('redis-server'),
    S3_ENDPOINT: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
    S3_ACCESS_KEY: optionalText,
    S3_SECRET_KEY: optionalText,
    S3_BUCKET: optionalText.pipe(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
        .optional(),
    ),
    S3_REGION: z.string().default('us-east-1'),
    ADMIN_PASSWORD: optionalText.pipe(z.string().min(8, 'must be at least 8 characters').optional()),
    SECRET_KEY: optionalText.pipe(
      z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)')
        .optional(),
    ),
    FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
    FFPROBE_PATH: z.string().min(1).default('ffprobe'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ROLES: roles.default(['api', 'ingest', 'worker']),
    TOKEN_TTL_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 30)
      .default(12),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(50_000_000).default(1_000_000),
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
    LOGIN_BLOCK_SECONDS: z.coerce.number().int().min(1).default(900),
    /** Proxies whose X-Forwarded-For is believed (addresses or CIDR blocks); unset: none. */
    TRUSTED_PROXIES: cidrList.optional(),
    /** Networks cameras and their replies may point to; the service's own local ports never. */
    CAMERA_NETWORKS: cidrList.default(DEFAULT_CAMERA_NETWORKS),
    /** Largest ONVIF reply read from a device; larger is refused before it is parsed. */
    ONVIF_MAX_REPLY_BYTES: z.coerce.number().int().min(10_000).max(50_000_000).default(1_000_000),
    /** Largest snapshot JPEG read from a device. */
    SNAPSHOT_MAX_BYTES: z.coerce.number().int().min(10_000).max(100_000_000).default(10_000_000),
    RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    BATCH_RETENTION_DAYS: z.coerce.number().int().min(730).default(730),
    BATCH_MARGIN_MINUTES: z.coerce.number().int().min(0).max(240).default(15),
    SEGMENT_SECONDS: z.coerce.number().int().min(2).max(600).default(10),
    /** Above this many bytes waiting in the spool (storage down), the oldest footage outside batch sessions is dropped. */
    SPOOL_MAX_BYTES: z.coerce.number().int().min(1_000_000).default(20_000_000_000),
    /** Share of the footage store (0..1) above which the oldest unprotected footage is removed. */
    STORAGE_FILL_LIMIT: z.coerce.number().gt(0).max(1).default(0.9),
    /** Capacity of the footage store in bytes (needed for the fill level on S3; local disk: its own size). */
    STORAGE_CAPACITY_BYTES: z.coerce.number().int().positive().optional(),
    RETENTION_SWEEP_SECONDS: z.coerce.number().int().min(10).max(86_400).default(3600),
    /** Segments deleted per sweep transaction. */
    RETENTION_SWEEP_BATCH: z.coerce.number().int().min(1).max(10_000).default(200),
    CLOCK_SKEW_LIMIT_MS: z.coerce.number().int().min(100).default(2000),
    STALL_TIMEOUT_MS: z.coerce.number().int().min(500).default(2000),
    LEASE_MS: z.coerce.number().int().min(1000).default(10_000),
    /** Ingest: every ONVIF request and ffprobe of a stream has these deadlines. */
    ONVIF_TIMEOUT_MS: z.coerce.number().int().min(200).default(5000),
    PROBE_TIMEOUT_MS: z.coerce.number().int().min(500).default(8000),
    /** Probe an RTSP address with ffprobe before storing the camera (false: store unchecked, for tests). */
    PROBE_ON_REGISTER: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    /** Network interface WS-Discovery probes from (e.g. eth0); unset: the default route's. */
    DISCOVERY_INTERFACE: optionalText,
    /** ffmpeg's RTSP socket timeout for the supervised pull. */
    RTSP_IO_TIMEOUT_MS: z.coerce.number().int().min(500).default(5000),
    RECONNECT_MIN_MS: z.coerce.number().int().min(50).default(500),
    RECONNECT_MAX_MS: z.coerce.number().int().min(100).default(10_000),
    /** Frames must flow this long after a (re)connect before a camera counts as online. */
    RECOVERY_MS: z.coerce.number().int().min(0).default(1000),
    /** How often an ingest process looks for new, deleted and unowned cameras. */
    INGEST_POLL_MS: z.coerce.number().int().min(100).default(2000),
    CLOCK_CHECK_INTERVAL_MS: z.coerce.number().int().min(500).default(60_000),
    /** How often camera health is written to the cameras row (status changes are written at once). */
    HEALTH_PERSIST_MS: z.coerce.number().int().min(200).default(2000),
    PICTURE_SAMPLE_FPS: z.coerce.number().min(0.2).max(10).default(2),
    PICTURE_SAMPLE_WIDTH: z.coerce.number().int().min(32).max(640).default(320),
    PICTURE_SAMPLE_HEIGHT: z.coerce.number().int().min(18).max(360).default(180),
    /** Samples of the first ms of each pull are not judged: a stream joined mid-GOP starts smeared. */
    PICTURE_WARMUP_MS: z.coerce.number().int().min(0).default(2500),
    /** Floor of a usable picture: below it the camera is degraded. */
    FLOOR_MIN_HEIGHT: z.coerce.number().int().min(0).default(720),
    FLOOR_MIN_FPS: z.coerce.number().min(0).default(15),
    FLOOR_MIN_KBPS: z.coerce.number().min(0).default(256),
    /** Picture checks (luma 0..255): see src/ingest/picture-checks.ts. */
    PICTURE_BLACK_MAX_LUMA: z.coerce.number().min(0).max(255).default(24),
    PICTURE_COVERED_MIN_FLAT: z.coerce.number().min(0).max(1).default(0.7),
    PICTURE_FROZEN_NOISE_RATIO: z.coerce.number().min(0).max(1).default(0.6),
    PICTURE_BLUR_RATIO: z.coerce.number().min(0).max(1).default(0.7),
    PICTURE_MOVED_MIN_MATCH: z.coerce.number().min(0).max(1).default(0.3),
    PICTURE_REFERENCE_AFTER_MS: z.coerce.number().int().min(0).default(30_000),
    /** Hysteresis of every picture check, in consecutive samples. */
    PICTURE_RAISE_AFTER: z.coerce.number().int().min(1).default(2),
    PICTURE_CLEAR_AFTER: z.coerce.number().int().min(1).default(2),
    LIVE_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
    LIVE_IDLE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
    /** A condition shorter than this is kept on the alert timeline but not pushed as an alert. */
    ALERT_GRACE_MS: z.coerce.number().int().min(0).default(1000),
    /** An alert resolves once its condition has stayed clear this long (absorbs flapping). */
    ALERT_RESOLVE_HOLD_MS: z.coerce.number().int().min(0).default(10_000),
    /** This many occurrences of a condition within ALERT_FLAP_WINDOW_MS open its alert at once. */
    ALERT_FLAP_THRESHOLD: z.coerce.number().int().min(2).default(3),
    ALERT_FLAP_WINDOW_MS: z.coerce.number().int().min(1000).default(60_000),
    /** How long live events stay replayable for reconnecting clients. */
    LIVE_EVENTS_RETENTION_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 30)
      .default(24),
    /** Alert webhook: each alert event is POSTed here, signed with HMAC-SHA256 of WEBHOOK_SECRET. */
    WEBHOOK_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
    WEBHOOK_SECRET: optionalText,
    /** Media server (node-media-server) ports, where the ingest role runs it; 0 picks free ports. */
    LIVE_RTMP_PORT: port.default(0),
    LIVE_HTTP_PORT: port.default(0),
    /** Where API processes reach the media server's HTTP-FLV; unset: the one in this process. */
    LIVE_MEDIA_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
    READINESS_LEAD_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
    READINESS_CHECK_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    /** Below this much free space on DATA_DIR (where the spool lives) the spool counts as under pressure. */
    SPOOL_MIN_FREE_MB: z.coerce.number().int().min(0).default(512),
    /** Objects read at once by batch verification and export. */
    VERIFY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
    DISPATCH_PER_SESSION: z.coerce.number().int().min(1).max(10).default(2),
    /** Ed25519 private key (PKCS#8 PEM) that signs export manifests; unset: generated once in DATA_DIR. */
    SIGNING_KEY_FILE: optionalText,
  })
  .superRefine((c, ctx) => {
    const s3 = [c.S3_ENDPOINT, c.S3_ACCESS_KEY, c.S3_SECRET_KEY, c.S3_BUCKET];
    if (s3.some((v) => v !== undefined) && s3.some((v) => v === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['S3_ENDPOINT'],
        message: 'S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY and S3_BUCKET must be set together',
      });
    }
  });

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads and checks the configuration; throws ConfigError naming every bad variable. Empty values count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // `PORT=` (set but empty, common in compose files) means unset, not 0.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = configSchema.safeParse(set);
  if (!parsed.success) {
    throw new ConfigError(
      // Named by the variable alone (ROLES, not ROLES.1): that is what the operator sets.
      parsed.error.issues.map((i) => `${String(i.path[0] ?? '(environment)')}: ${i.message}`),
    );
  }
  return parsed.data;
}

import type { Migration } from './types.js';

export const batches: Migration = {
  version: 4,
  name: 'batches',
  statements: [
    `CREATE INDEX IF NOT EXISTS batch_sessions_batch ON batch_sessions (batch_id, starts_at)`,
    `CREATE INDEX IF NOT EXISTS session_supervisors_user ON session_supervisors (user_id)`,
    `CREATE INDEX IF NOT EXISTS footage_holds_batch ON footage_holds (batch_id) WHERE batch_id IS NOT NULL`,
    // Which draw put a supervisor on a session, and whether they came in as internal or external.
    `ALTER TABLE session_supervisors ADD COLUMN draw_id text, ADD COLUMN kind text`,
    // Every supervisor draw with its seed and the pool it drew from, so the draw can be replayed.
    `CREATE TABLE dispatch_draws (
      id text PRIMARY KEY,
      batch_id text NOT NULL REFERENCES batches(id),
      seed text NOT NULL,
      per_session integer NOT NULL,
      inputs jsonb NOT NULL,
      assignments jsonb NOT NULL,
      created_by text,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
    )`,
    `CREATE INDEX dispatch_draws_batch ON dispatch_draws (batch_id, created_at)`,
    `CREATE TABLE session_opinions (
      session_id text NOT NULL REFERENCES batch_sessions(id),
      user_id text NOT NULL REFERENCES users(id),
      text text NOT NULL,
      score integer NOT NULL CHECK (score BETWEEN 0 AND 100),
      filed_at timestamptz NOT NULL,
      PRIMARY KEY (session_id, user_id)
    )`,
    `CREATE TABLE batch_exports (
      id text PRIMARY KEY,
      batch_id text NOT NULL REFERENCES batches(id),
      status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
      progress real NOT NULL DEFAULT 0,
      requested_by text,
      requested_by_name text,
      requested_at timestamptz NOT NULL,
      finished_at timestamptz,
      object_key text,
      bytes bigint,
      manifest jsonb,
      error text
    )`,
    `CREATE INDEX batch_exports_batch ON batch_exports (batch_id, requested_at)`,
    `CREATE TABLE spot_checks (
      id text PRIMARY KEY,
      seed text NOT NULL,
      params jsonb NOT NULL,
      candidates jsonb NOT NULL,
      picks jsonb NOT NULL,
      created_by text,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
    )`,
    // One row per distinct not-ready finding of a session, so the periodic check alerts once per finding.
    `CREATE TABLE session_readiness_alerts (
      session_id text NOT NULL REFERENCES batch_sessions(id),
      fingerprint text NOT NULL,
      problems jsonb NOT NULL,
      raised_at timestamptz NOT NULL,
      PRIMARY KEY (session_id, fingerprint)
    )`,
  ],
};

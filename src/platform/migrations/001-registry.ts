import type { Migration } from './types.js';

export const registry: Migration = {
  version: 1,
  name: 'registry',
  statements: [
    `CREATE TABLE units (
      id text PRIMARY KEY,
      name text NOT NULL,
      credit_code text NOT NULL UNIQUE,
      kind text NOT NULL CHECK (kind IN ('employer', 'third_party')),
      confidential boolean NOT NULL DEFAULT false,
      region text,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
    )`,
    `CREATE TABLE users (
      id text PRIMARY KEY,
      username text NOT NULL UNIQUE,
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin', 'unit_operator', 'supervisor', 'auditor')),
      unit_id text REFERENCES units(id),
      supervisor_kind text CHECK (supervisor_kind IN ('internal', 'external')),
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
    )`,
    `CREATE TABLE auth_tokens (
      token_hash text PRIMARY KEY,
      user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
      expires_at timestamptz NOT NULL
    )`,
    `CREATE TABLE sites (
      id text PRIMARY KEY,
      unit_id text NOT NULL REFERENCES units(id),
      name text NOT NULL,
      address text,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
    )`,
    `CREATE INDEX sites_unit ON sites (unit_id, created_at, id)`,
    `CREATE TABLE zones (
      id text PRIMARY KEY,
      site_id text NOT NULL REFERENCES sites(id),
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
      UNIQUE (site_id, name)
    )`,
    `CREATE TABLE cameras (
      id text PRIMARY KEY,
      site_id text NOT NULL REFERENCES sites(id),
      unit_id text NOT NULL REFERENCES units(id),
      name text NOT NULL,
      source text NOT NULL CHECK (source IN ('rtsp', 'onvif')),
      rtsp_url text NOT NULL,
      credentials_sealed text,
      onvif jsonb,
      streams jsonb NOT NULL DEFAULT '[]',
      status text NOT NULL DEFAULT 'connecting',
      status_reason text,
      status_changed_at timestamptz NOT NULL DEFAULT now(),
      health jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
      deleted_at timestamptz
    )`,
    `CREATE INDEX cameras_site ON cameras (site_id) WHERE deleted_at IS NULL`,
    // Assignment history, so footage of a camera re-assigned later still maps to the zones it covered then.
    `CREATE TABLE camera_zones (
      camera_id text NOT NULL REFERENCES cameras(id),
      zone_id text NOT NULL REFERENCES zones(id),
      assigned_from timestamptz NOT NULL DEFAULT now(),
      assigned_to timestamptz,
      PRIMARY KEY (camera_id, zone_id, assigned_from)
    )`,
    `CREATE INDEX camera_zones_current ON camera_zones (zone_id) WHERE assigned_to IS NULL`,
    `CREATE TABLE batches (
      id text PRIMARY KEY,
      code text NOT NULL,
      unit_id text NOT NULL REFERENCES units(id),
      occupation_code text NOT NULL,
      level integer NOT NULL CHECK (level BETWEEN 1 AND 5),
      status text NOT NULL DEFAULT 'planned',
      status_reason text,
      created_by text REFERENCES users(id),
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
      UNIQUE (unit_id, code)
    )`,
    `CREATE TABLE batch_sessions (
      id text PRIMARY KEY,
      batch_id text NOT NULL REFERENCES batches(id),
      site_id text NOT NULL REFERENCES sites(id),
      zone_ids text[],
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      CHECK (ends_at > starts_at)
    )`,
    `CREATE INDEX batch_sessions_site_time ON batch_sessions (site_id, starts_at, ends_at)`,
    `CREATE TABLE session_supervisors (
      session_id text NOT NULL REFERENCES batch_sessions(id),
      user_id text NOT NULL REFERENCES users(id),
      assigned_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (session_id, user_id)
    )`,
    `CREATE TABLE audit_log (
      seq bigint PRIMARY KEY,
      at timestamptz NOT NULL,
      actor_id text,
      actor_name text,
      action text NOT NULL,
      subject_type text NOT NULL,
      subject_id text,
      details jsonb NOT NULL DEFAULT '{}',
      prev_hash text NOT NULL,
      hash text NOT NULL
    )`,
    `CREATE INDEX audit_subject ON audit_log (subject_id, seq)`,
    `CREATE INDEX audit_actor ON audit_log (actor_id, seq)`,
    // Append-only: the service never updates or deletes audit rows; the hash chain catches anyone who does.
    `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
    `CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
  ],
};

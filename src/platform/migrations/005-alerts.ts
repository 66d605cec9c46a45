import type { Migration } from './types.js';

export const alerts: Migration = {
  version: 5,
  name: 'alerts',
  statements: [
    // One row per alert. dedupe_key names the condition (rule + subject); at most one unresolved
    // alert per key, so several engines racing cannot open the same alert twice.
    `CREATE TABLE alerts (
      id text PRIMARY KEY,
      rule text NOT NULL,
      dedupe_key text NOT NULL,
      subject_type text NOT NULL CHECK (subject_type IN ('camera', 'zone', 'site', 'batch', 'service')),
      subject_id text,
      unit_id text,
      site_id text,
      zone_id text,
      camera_id text,
      batch_id text,
      severity text NOT NULL CHECK (severity IN ('warning', 'critical')),
      state text NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
      occurrences integer NOT NULL DEFAULT 1,
      detail text,
      opened_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      cleared_at timestamptz,
      acknowledged_at timestamptz,
      acknowledged_by text,
      resolved_at timestamptz
    )`,
    `CREATE UNIQUE INDEX alerts_one_unresolved ON alerts (dedupe_key) WHERE state <> 'resolved'`,
    `CREATE INDEX alerts_site_state ON alerts (site_id, state, opened_at)`,
    `CREATE INDEX alerts_batch ON alerts (batch_id, opened_at)`,
    `CREATE INDEX alerts_opened ON alerts (opened_at, id)`,
    // Every time a condition became true and when it ended, blips shorter than the grace included;
    // alert_id is set when the occurrence is part of an alert.
    `CREATE TABLE alert_timeline (
      id text PRIMARY KEY,
      dedupe_key text NOT NULL,
      rule text NOT NULL,
      unit_id text,
      site_id text,
      camera_id text,
      zone_id text,
      batch_id text,
      started_at timestamptz NOT NULL,
      ended_at timestamptz,
      alert_id text REFERENCES alerts(id),
      detail text
    )`,
    `CREATE INDEX alert_timeline_key_time ON alert_timeline (dedupe_key, started_at)`,
    `CREATE INDEX alert_timeline_site_time ON alert_timeline (site_id, started_at)`,
    // Events pushed to live clients, numbered by one sequence so a reconnecting client can ask
    // for everything after the last seq it saw.
    `CREATE TABLE live_events (
      seq bigserial PRIMARY KEY,
      name text NOT NULL,
      unit_id text,
      site_id text,
      batch_ids text[] NOT NULL DEFAULT '{}',
      confidential boolean NOT NULL DEFAULT false,
      payload jsonb NOT NULL,
      at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX live_events_site ON live_events (site_id, seq)`,
    `CREATE INDEX live_events_at ON live_events (at)`,
  ],
};

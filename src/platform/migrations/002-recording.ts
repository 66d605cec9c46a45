import type { Migration } from './types.js';

export const recording: Migration = {
  version: 2,
  name: 'recording',
  statements: [
    // One row per stored segment. sha256 covers the object's bytes; prev_sha256 is the camera's
    // previous segment's sha256, so each camera's footage is a hash chain.
    `CREATE TABLE segments (
      id text PRIMARY KEY,
      camera_id text NOT NULL REFERENCES cameras(id),
      site_id text NOT NULL,
      unit_id text NOT NULL,
      started_at timestamptz NOT NULL,
      ended_at timestamptz NOT NULL,
      bytes bigint NOT NULL,
      codec text,
      width integer,
      height integer,
      sha256 text NOT NULL,
      prev_sha256 text,
      object_key text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
      CHECK (ended_at > started_at)
    )`,
    `CREATE INDEX segments_camera_time ON segments (camera_id, started_at)`,
    `CREATE INDEX segments_created ON segments (created_at)`,
    // Spans without footage, each with its reason: footage of any span is recorded or explained.
    `CREATE TABLE recording_gaps (
      id text PRIMARY KEY,
      camera_id text NOT NULL REFERENCES cameras(id),
      started_at timestamptz NOT NULL,
      ended_at timestamptz,
      reason text NOT NULL,
      detail text
    )`,
    `CREATE INDEX recording_gaps_camera_time ON recording_gaps (camera_id, started_at)`,
    // Holds keep footage past every retention rule until released (rejected or disputed batches).
    `CREATE TABLE footage_holds (
      id text PRIMARY KEY,
      batch_id text REFERENCES batches(id),
      camera_id text REFERENCES cameras(id),
      from_at timestamptz,
      to_at timestamptz,
      reason text NOT NULL,
      created_by text,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
      released_at timestamptz,
      released_by text
    )`,
  ],
};

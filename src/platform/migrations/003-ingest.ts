import type { Migration } from './types.js';

export const ingest: Migration = {
  version: 3,
  name: 'ingest',
  statements: [
    // What ONVIF onboarding learnt: the snapshot address and the device's identity.
    `ALTER TABLE cameras ADD COLUMN snapshot_uri text`,
    `ALTER TABLE cameras ADD COLUMN device jsonb`,
    // The accepted view of each camera: the grey frame the picture checks compare with, and the
    // JPEG an operator saw. In the database, so every ingest process (on any machine) has it.
    `CREATE TABLE camera_references (
      camera_id text PRIMARY KEY REFERENCES cameras(id),
      width integer NOT NULL,
      height integer NOT NULL,
      gray bytea NOT NULL,
      jpeg bytea NOT NULL,
      taken_by text,
      taken_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
    )`,
  ],
};

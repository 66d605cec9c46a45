import type { Migration } from './types.js';

export const deployment: Migration = {
  version: 6,
  name: 'deployment',
  statements: [
    // The deployment's identity, made once with its database. Redis keys are namespaced by it, so
    // deployments sharing a Redis (two embedded databases both call their schema `public`) never meet.
    // secret_key_check binds the SECRET_KEY the data is sealed with, so a process started with another
    // key refuses to start; signing_key_sealed is the export signing key, shared by every process.
    `CREATE TABLE deployment (
      id text PRIMARY KEY,
      singleton boolean NOT NULL DEFAULT true UNIQUE CHECK (singleton),
      secret_key_check text,
      signing_key_sealed text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `INSERT INTO deployment (id) VALUES (replace(gen_random_uuid()::text, '-', ''))`,
  ],
};

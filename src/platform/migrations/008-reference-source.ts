import type { Migration } from './types.js';

export const referenceSource: Migration = {
  version: 8,
  name: 'reference-source',
  statements: [
    // Who took the reference picture: the service by itself once the picture stayed healthy and
    // still (auto), or an operator. References from before were all taken by operators.
    `ALTER TABLE camera_references ADD COLUMN source text NOT NULL DEFAULT 'operator'`,
  ],
};

import type { Migration } from './types.js';

export const batchWindows: Migration = {
  version: 7,
  name: 'batch-windows',
  statements: [
    // Published by batches for set-based reads by other modules (retention's sweep judges every
    // segment against it under the retention lock): each session as a window at a site, with when
    // its batch's last session ends. Other modules read this view, never batches' tables.
    `CREATE VIEW batch_session_windows AS
       SELECT s.batch_id, s.site_id, s.starts_at, s.ends_at,
              max(s.ends_at) OVER (PARTITION BY s.batch_id) AS batch_ends_at
       FROM batch_sessions s`,
  ],
};

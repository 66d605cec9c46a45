import type { SessionNotReadyEvent } from '../alerts/rules.js';

/**
 * The events the batches module emits, by name. The readiness payload is the one the alert engine
 * turns into an alert, so it is declared there: alerts sit below batches and cannot import from here.
 */
export interface BatchEvents {
  'session.not_ready': SessionNotReadyEvent;
}

/**
 * Service-level faults: storage unreachable or full, uploads failing, the store or the spool under
 * pressure. The alert rules watch storage_down, storage_full, upload_failing and spool_pressure.
 */
export const SERVICE_FAULT_KINDS = [
  'storage_down',
  'storage_full',
  'storage_pressure',
  'upload_failing',
  'spool_pressure',
] as const;
export type ServiceFaultKind = (typeof SERVICE_FAULT_KINDS)[number];

/** A service-level fault started or ended. */
export interface ServiceFaultEvent {
  kind: ServiceFaultKind;
  active: boolean;
  at: string;
  detail?: string;
}

/** The events the recording module emits, by name. */
export interface RecordingEvents {
  'service.fault': ServiceFaultEvent;
}

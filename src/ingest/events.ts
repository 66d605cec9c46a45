import type { FaultKind } from './camera-state.js';
import type { CameraStatus } from './schemas.js';

/** Which camera an event is about, and where it is. */
export interface CameraRef {
  cameraId: string;
  siteId: string;
  unitId: string;
}

/** A camera's supervision state changed, with a reason (offline: why the pull failed). */
export interface CameraStatusEvent extends CameraRef {
  status: CameraStatus;
  reason: string | null;
  at: string;
}

/** A health fault (picture check, clock, floor, stall) started or ended on a camera. */
export interface CameraFaultEvent extends CameraRef {
  kind: FaultKind;
  active: boolean;
  at: string;
  detail?: string;
}

/** The events the ingest module emits, by name. */
export interface IngestEvents {
  'camera.status': CameraStatusEvent;
  'camera.fault': CameraFaultEvent;
}

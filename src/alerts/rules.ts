import type { CameraFaultEvent, CameraRef, CameraStatusEvent } from '../ingest/events.js';
import type { ServiceFaultEvent, ServiceFaultKind } from '../recording/events.js';
import type { AlertRule, SubjectType } from './schemas.js';

/**
 * A condition that can be true or false, named by rule and subject. Several causes may hold one
 * condition true (a camera is offline by its status and by a fault); it clears when none remain.
 */
export interface Signal {
  key: string;
  rule: AlertRule;
  subjectType: SubjectType;
  subjectId: string | null;
  unitId: string | null;
  siteId: string | null;
  cameraId: string | null;
  zoneId: string | null;
  batchId: string | null;
  cause: string;
  active: boolean;
  at: Date;
  detail: string | null;
}

const PICTURE_FAULTS = new Set(['black', 'frozen', 'blurred', 'covered', 'moved']);
const FLOOR_FAULTS = new Set(['low_fps', 'low_bitrate', 'low_resolution']);
const SERVICE_FAULTS: Partial<Record<ServiceFaultKind, AlertRule>> = {
  storage_down: 'storage_down',
  storage_full: 'storage_full',
  upload_failing: 'upload_failing',
  spool_pressure: 'spool_pressure',
};

function cameraSignal(
  e: CameraRef,
  rule: AlertRule,
  cause: string,
  active: boolean,
  at: string,
  detail: string | null,
): Signal {
  return {
    key: `${rule}:${e.cameraId}`,
    rule,
    subjectType: 'camera',
    subjectId: e.cameraId,
    unitId: e.unitId,
    siteId: e.siteId,
    cameraId: e.cameraId,
    zoneId: null,
    batchId: null,
    cause,
    active,
    at: new Date(at),
    detail,
  };
}

/** The conditions a camera status change sets or clears. */
export function signalsFromStatus(e: CameraStatusEvent): Signal[] {
  const detail = e.reason ?? e.status;
  switch (e.status) {
    case 'offline':
      return [
        cameraSignal(e, 'camera_offline', 'status', true, e.at, detail),
        cameraSignal(e, 'camera_degraded', 'status', false, e.at, null),
      ];
    case 'degraded':
      return [
        cameraSignal(e, 'camera_offline', 'status', false, e.at, null),
        cameraSignal(e, 'camera_degraded', 'status', true, e.at, detail),
      ];
    case 'online':
      return [
        cameraSignal(e, 'camera_offline', 'status', false, e.at, null),
        cameraSignal(e, 'camera_degraded', 'status', false, e.at, null),
      ];
    default:
      // 'connecting' says nothing yet about the picture: leave conditions as they are.
      return [];
  }
}

/** The condition a camera fault starts or ends; null for faults no rule watches. */
export function signalFromFault(e: CameraFaultEvent): Signal | null {
  const detail = e.detail ?? e.kind;
  if (e.kind === 'offline') return cameraSignal(e, 'camera_offline', 'fault', e.active, e.at, detail);
  if (e.kind === 'stalled') return cameraSignal(e, 'camera_stalled', 'fault', e.active, e.at, detail);
  if (e.kind === 'clock_skew') return cameraSignal(e, 'clock_skew', 'fault', e.active, e.at, detail);
  if (PICTURE_FAULTS.has(e.kind))
    return cameraSignal(e, `picture_${e.kind}` as AlertRule, 'fault', e.active, e.at, detail);
  // Each floor (fps, bitrate, resolution) is a cause of the one "below the picture floor" condition.
  if (FLOOR_FAULTS.has(e.kind)) return cameraSignal(e, 'camera_degraded', e.kind, e.active, e.at, detail);
  return null;
}

export function signalFromServiceFault(e: ServiceFaultEvent): Signal | null {
  const rule = SERVICE_FAULTS[e.kind];
  if (!rule) return null;
  return {
    key: rule,
    rule,
    subjectType: 'service',
    subjectId: null,
    unitId: null,
    siteId: null,
    cameraId: null,
    zoneId: null,
    batchId: null,
    cause: 'fault',
    active: e.active,
    at: new Date(e.at),
    detail: e.detail ?? null,
  };
}

/**
 * A batch session's readiness check failed (active) or passed again (inactive), with the problems
 * found. Emitted by batches (its readiness check); declared here, where it becomes an alert, because
 * alerts sit below batches.
 */
export interface SessionNotReadyEvent {
  batchId: string;
  sessionId: string;
  siteId: string;
  unitId: string;
  active: boolean;
  at: string;
  problems: string[];
}

export function signalFromNotReady(e: SessionNotReadyEvent): Signal {
  return {
    key: `session_not_ready:${e.sessionId}`,
    rule: 'session_not_ready',
    subjectType: 'batch',
    subjectId: e.batchId,
    unitId: e.unitId,
    siteId: e.siteId,
    cameraId: null,
    zoneId: null,
    batchId: e.batchId,
    cause: 'readiness',
    active: e.active,
    at: new Date(e.at),
    detail: e.problems.length ? e.problems.join('; ') : null,
  };
}

/** A zone with cameras assigned and none of them healthy is not covered. */
export function zoneSignal(
  zone: { zoneId: string; cameraIds: string[]; covered: boolean },
  site: { siteId: string; unitId: string },
  at: Date,
): Signal | null {
  if (zone.cameraIds.length === 0) return null;
  return {
    key: `zone_not_covered:${zone.zoneId}`,
    rule: 'zone_not_covered',
    subjectType: 'zone',
    subjectId: zone.zoneId,
    unitId: site.unitId,
    siteId: site.siteId,
    cameraId: null,
    zoneId: zone.zoneId,
    batchId: null,
    cause: 'coverage',
    active: !zone.covered,
    at,
    detail: zone.covered ? null : `no healthy camera among ${zone.cameraIds.length}`,
  };
}

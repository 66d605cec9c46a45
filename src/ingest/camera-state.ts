import type { CameraStatus } from './schemas.js';

/** Every health fault a camera can have (camera.fault `kind`). */
export const FAULT_KINDS = [
  'offline',
  'stalled',
  'black',
  'frozen',
  'blurred',
  'covered',
  'moved',
  'low_fps',
  'low_bitrate',
  'low_resolution',
  'clock_skew',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type StateChange =
  | { type: 'status'; status: CameraStatus; reason: string | null }
  | { type: 'fault'; kind: FaultKind; active: boolean; detail?: string };

/**
 * The supervision state of one camera: connecting → online ⇄ degraded, and offline with a reason
 * when the pull fails or stalls. Online means frames have flowed for `recoveryMs` without a stall,
 * so a camera that sends one frame and stops again never looks healthy. Pure: time comes in.
 */
export class CameraState {
  status: CameraStatus = 'connecting';
  reason: string | null = null;
  private readonly faults = new Map<FaultKind, string | undefined>();
  private failure: { reason: string; detail: string } | null = null;
  private delivering = false;
  private deliveringSince: number | null = null;
  private deliveredMs = 0;
  private readonly startedAt: number;

  constructor(
    now: number,
    private readonly recoveryMs = 1000,
  ) {
    this.startedAt = now;
  }

  isDelivering(): boolean {
    return this.delivering;
  }

  activeFaults(): FaultKind[] {
    return FAULT_KINDS.filter((k) => this.faults.has(k));
  }

  /** Frames have been flowing for `flowingMs` in the current pull. */
  flowing(flowingMs: number, now: number): StateChange[] {
    if (this.delivering || flowingMs < this.recoveryMs) return [];
    this.delivering = true;
    this.deliveringSince = now;
    const changes: StateChange[] = [];
    if (this.failure) {
      changes.push(...this.fault(this.failure.reason === 'stalled' ? 'stalled' : 'offline', false));
      this.failure = null;
    }
    return [...changes, ...this.recompute()];
  }

  /** The pull ended or stalled; `reason` is a short code (auth_refused, stalled, ...). */
  failed(reason: string, detail: string, now: number): StateChange[] {
    const changes: StateChange[] = [];
    if (this.delivering) {
      this.delivering = false;
      this.deliveredMs += now - (this.deliveringSince ?? now);
      this.deliveringSince = null;
    }
    const kind: FaultKind = reason === 'stalled' ? 'stalled' : 'offline';
    const previous = this.failure;
    this.failure = { reason, detail };
    if (previous) {
      const before: FaultKind = previous.reason === 'stalled' ? 'stalled' : 'offline';
      if (before !== kind) changes.push(...this.fault(before, false));
    }
    changes.push(...this.fault(kind, true, detail));
    return [...changes, ...this.recompute()];
  }

  /** A health fault other than offline/stalled (picture, floor, clock) started or ended. */
  setFault(kind: FaultKind, active: boolean, detail?: string): StateChange[] {
    return [...this.fault(kind, active, detail), ...this.recompute()];
  }

  /** Share of the supervised time the camera delivered frames (0..1). */
  uptimeRatio(now: number): number {
    const total = now - this.startedAt;
    if (total <= 0) return 0;
    const current = this.delivering && this.deliveringSince !== null ? now - this.deliveringSince : 0;
    return Math.min(1, (this.deliveredMs + current) / total);
  }

  private fault(kind: FaultKind, active: boolean, detail?: string): StateChange[] {
    if (active === this.faults.has(kind)) {
      if (active) this.faults.set(kind, detail);
      return [];
    }
    if (active) this.faults.set(kind, detail);
    else this.faults.delete(kind);
    return [{ type: 'fault', kind, active, ...(detail ? { detail } : {}) }];
  }

  private recompute(): StateChange[] {
    let status: CameraStatus;
    let reason: string | null;
    if (this.delivering) {
      const faults = this.activeFaults();
      status = faults.length ? 'degraded' : 'online';
      reason = faults.length ? faults.join(', ') : null;
    } else if (this.failure) {
      status = 'offline';
      reason = this.failure.detail ? `${this.failure.reason}: ${this.failure.detail}` : this.failure.reason;
    } else {
      status = 'connecting';
      reason = null;
    }
    if (status === this.status && reason === this.reason) return [];
    this.status = status;
    this.reason = reason;
    return [{ type: 'status', status, reason }];
  }
}

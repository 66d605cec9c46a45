/** The background jobs of the recording module, by name. */
export interface RecordingJobs {
  /** Upload a camera's ready spool segments in order (one job per camera at a time; lane: the spool). */
  'segment.store': { cameraId: string };
  /** Delete expired footage and relieve storage pressure (repeatable). */
  'retention.sweep': { reason?: string };
}

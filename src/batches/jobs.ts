/** The background jobs of the batches module, by name. */
export interface BatchJobs {
  /** Builds a batch export archive in the background (it can take minutes; progress is stored). */
  'export.build': { exportId: string };
}

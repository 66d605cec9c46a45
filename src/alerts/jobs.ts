/** The background jobs of the alerts module, by name. */
export interface AlertJobs {
  /** POST one alert event (by its live event seq) to the configured webhook. */
  'alerts.webhook': { seq: number };
}

/** What the collector has done since it started; the metrics module reads it at each scrape. */
export interface CollectorStats {
  runs: number;
  failures: number;
  pointsWritten: number;
  pointsSpooled: number;
  pointsDropped: number;
  pointsBeyondRetention: number;
  spoolDepth: number;
  /** Points neither the store nor the spool took, held in memory for the next runs. */
  pointsHeld: number;
  lastWriteSeconds: number;
}

export function emptyStats(): CollectorStats {
  return { runs: 0, failures: 0, pointsWritten: 0, pointsSpooled: 0, pointsDropped: 0, pointsBeyondRetention: 0, spoolDepth: 0, pointsHeld: 0, lastWriteSeconds: 0 };
}

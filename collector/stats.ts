/** What the collector has done since it started; the metrics module reads it at each scrape. */
export interface CollectorStats {
  runs: number;
  failures: number;
  pointsWritten: number;
  pointsSpooled: number;
  pointsDropped: number;
  pointsBeyondRetention: number;
  spoolDepth: number;
  lastWriteSeconds: number;
}

export function emptyStats(): CollectorStats {
  return { runs: 0, failures: 0, pointsWritten: 0, pointsSpooled: 0, pointsDropped: 0, pointsBeyondRetention: 0, spoolDepth: 0, lastWriteSeconds: 0 };
}

/**
 * Deep positions found by counts of points per bucket (SQLite's exact day counts,
 * InfluxDB's counts per bucket of a window), so that `OFFSET`, which steps over
 * every point it passes, then steps only within one bucket. Pure: no I/O.
 */

/** Points a bucket holds: [the bucket (its day, or its start), its points]. */
export type BucketCount<Bucket> = readonly [bucket: Bucket, points: number];

/**
 * The bucket holding the point `offset` from the newest, and that point's offset
 * from the bucket's newest end. `counts` run newest bucket first and are read only
 * as far as needed (a statement's iterator closes when left). Undefined when they
 * hold no more than `offset` points.
 */
export function bucketAt<Bucket>(counts: Iterable<BucketCount<Bucket>>, offset: number): { bucket: Bucket; offset: number } | undefined {
  let newer = 0;
  for (const [bucket, points] of counts) {
    if (newer + points > offset) return { bucket, offset: offset - newer };
    newer += points;
  }
  return undefined;
}

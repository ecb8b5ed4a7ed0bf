/**
 * Token buckets per key with Traefik's rate-limit semantics: `average` requests per
 * `periodMs` refill continuously, a bucket holds at most `burst`, and a new key
 * starts full. Pure: the clock is passed in.
 */
export class TokenBuckets {
  private readonly perMs: number;
  /** Least recently used first: Map keeps insertion order and a touch re-inserts. */
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(
    average: number,
    periodMs: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {
    this.perMs = average / periodMs;
  }

  /** Takes a token for `key`: 0 when allowed, else the ms until one is there. */
  take(key: string, nowMs: number): number {
    const bucket = this.buckets.get(key);
    let tokens = this.burst;
    if (bucket !== undefined) {
      tokens = Math.min(this.burst, bucket.tokens + (nowMs - bucket.atMs) * this.perMs);
      this.buckets.delete(key);
    }
    this.expire(nowMs);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, atMs: nowMs });
      return Math.ceil((1 - tokens) / this.perMs);
    }
    this.buckets.set(key, { tokens: tokens - 1, atMs: nowMs });
    return 0;
  }

  /** How many keys are held (idle ones are forgotten). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Forgets buckets that have refilled (a full bucket is the same as none), oldest
   * first, and the least recently used past maxKeys: memory stays bounded.
   */
  private expire(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      const full = bucket.tokens + (nowMs - bucket.atMs) * this.perMs >= this.burst;
      if (!full && this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}

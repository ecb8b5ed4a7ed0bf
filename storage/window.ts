import type { HostSummary } from './types.js';

/**
 * The window that should hold the newest `skip + limit` points at one point per
 * interval, plus one interval of slack for jitter. The caller widens it when gaps
 * leave too few rows.
 */
export function initialSpanSeconds(limit: number, skip: number, intervalSeconds: number): number {
  return (limit + skip + 1) * intervalSeconds;
}

/** How much wider each retry looks: few retries even across long gaps. */
export const WIDEN_FACTOR = 8;

/**
 * Windows tried, newest first, to find the latest point without an unbounded scan:
 * an hour, a day, a month, a year, then everything.
 */
const NEWEST_LOOKBACK_SECONDS = [3_600, 86_400, 31 * 86_400, 366 * 86_400] as const;

/** The newest point of a host: where every page's time window ends. */
export interface Newest {
  readonly host: string;
  readonly time: number;
}

/** The newest of some points: the latest time, a tie going to the host that sorts first. */
export function newestOf(candidates: Iterable<Newest>): Newest | undefined {
  let newest: Newest | undefined;
  for (const one of candidates) {
    if (newest === undefined || one.time > newest.time || (one.time === newest.time && one.host < newest.host)) newest = one;
  }
  return newest;
}

/**
 * The newest point, looked for in the windows of NEWEST_LOOKBACK_SECONDS and then
 * everything: `latest(fromSeconds)` answers each host's newest point since then.
 */
export async function findNewest(latest: (fromSeconds: number) => Promise<Iterable<Newest>>): Promise<Newest | undefined> {
  const now = Math.floor(Date.now() / 1_000);
  for (const from of [...NEWEST_LOOKBACK_SECONDS.map((seconds) => Math.max(0, now - seconds)), 0]) {
    const newest = newestOf(await latest(from));
    if (newest !== undefined) return newest;
  }
  return undefined;
}

/** Hosts by their newest points, newest first, as listHosts answers them. */
export function hostsByNewest(points: Iterable<Newest>): HostSummary[] {
  return [...points]
    .sort((a, b) => b.time - a.time || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))
    .map(({ host, time }) => ({ host, latestTimestamp: time }));
}

/** How long the newest point of a host is remembered. */
const NEWEST_TTL_MS = 1_000;

/**
 * Remembers the newest point of each host (or of any host) for a moment: at
 * hundreds of requests a second this saves a round trip on nearly every one, and a
 * newest point a moment old only widens the window by that moment.
 */
export class NewestCache {
  private readonly entries = new Map<string, { newest: Newest; expiresMs: number }>();

  async get(host: string | undefined, find: () => Promise<Newest | undefined>): Promise<Newest | undefined> {
    const key = host ?? '';
    const cached = this.entries.get(key);
    if (cached !== undefined && cached.expiresMs > Date.now()) return cached.newest;
    const newest = await find();
    if (newest !== undefined) this.entries.set(key, { newest, expiresMs: Date.now() + NEWEST_TTL_MS });
    return newest;
  }

  /** After a write: a newer point must not wait for the entry to expire. */
  clear(): void {
    this.entries.clear();
  }
}

export interface WindowedQuery<Page> {
  /** The page (`limit` after `skip`, from the newest) within [fromSeconds, toSeconds]. */
  page(fromSeconds: number, toSeconds: number): Promise<Page>;
  /** Whether that window held the whole page. */
  complete(page: Page): boolean;
  /** The host's oldest point at or before `toSeconds`. */
  oldest(toSeconds: number): Promise<number | undefined>;
}

/**
 * Where a read ends when it need not end at a point: a day ahead of this clock
 * rather than the newest point, which, served from the cache, may be a little old
 * (the points written since belong in), and rather than now, which a collector whose
 * clock runs a little ahead of this one is past.
 */
export function readUpperSeconds(): number {
  return Math.floor(Date.now() / 1_000) + 86_400;
}

/**
 * Reads a page through bounded time windows, as InfluxDB 3 requires and 1.x and 2.x
 * reward: first the window that should hold `skip + limit` points at one per
 * interval, ending at the newest point; when gaps leave too few rows, a window
 * eight times wider, and so on until it reaches the host's oldest point.
 */
export async function pageInWindows<Page>(
  newest: Newest,
  { limit, skip }: { limit: number; skip: number },
  intervalSeconds: number,
  query: WindowedQuery<Page>,
): Promise<Page> {
  const upper = Math.max(newest.time, readUpperSeconds());
  let span = initialSpanSeconds(limit, skip, intervalSeconds);
  let oldest: number | undefined;
  for (;;) {
    const from = Math.max(0, oldest ?? 0, newest.time - span + 1);
    const page = await query.page(from, upper);
    if (query.complete(page) || from === 0) return page;
    // Too few rows: either the data ends here or gaps thinned the window.
    oldest ??= await query.oldest(upper);
    if (oldest === undefined || from <= oldest) return page;
    span *= WIDEN_FACTOR;
  }
}

/**
 * The only contract shared by api/ and collector/. Every number is an integer:
 * memory in MiB, time in whole seconds since the Unix epoch (UTC).
 */
export interface MemoryRecord {
  readonly timestamp: number;
  readonly total: number;
  readonly free: number;
  readonly used: number;
}

/** A record tagged with the host it was measured on. */
export interface MemoryPoint extends MemoryRecord {
  readonly host: string;
}

export interface HostSummary {
  readonly host: string;
  /** Timestamp of the host's newest point. */
  readonly latestTimestamp: number;
}

export interface ListQuery {
  /** Without a host, the host of the newest point is served. */
  readonly host?: string | undefined;
  /** How many points to return, at most. */
  readonly limit: number;
  /** How many of the newest points to skip first. */
  readonly skip: number;
}

export interface RequestOptions {
  /** Aborts the request early (shutdown, a caller's own deadline). */
  readonly signal?: AbortSignal;
}

/**
 * A JSON body: the whole text, or consecutive pieces of it for a large page that is
 * streamed. Whatever can fail (the store unreachable, a lookup) has failed before
 * the body is handed over.
 */
export type JsonBody = string | AsyncIterable<string>;

/** Pages of up to this many points are whole texts; larger ones may be streamed. */
export const STREAM_ABOVE_ROWS = 10_000;

/**
 * Large pages a store streams at once, each holding its reader (a SQLite connection
 * and read transaction, an InfluxDB connection) and its answer in flight for as long
 * as its client takes to read it, up to SEND_TIMEOUT for one that stops reading.
 * Another waits for one to end, up to STORE_TIMEOUT.
 */
export const STREAMED_PAGES = 32;

/** One key per distinct page, for the stores' page caches. */
export function pageKey(limit: number, skip: number, host: string | undefined): string {
  return `${limit} ${skip} ${host ?? ''}`;
}

/** What a write did with its points, when it did not fail. */
export interface WriteReceipt {
  /**
   * Points the store dropped as older than it keeps (an InfluxDB retention policy),
   * having stored every other: they will never be stored, so they are not to be
   * sent again.
   */
  readonly beyondRetention: number;
}

/** The receipt of a write that stored every point. */
export const ALL_STORED: WriteReceipt = Object.freeze({ beyondRetention: 0 });

export interface MemoryStore {
  /** Writes points; a point with the same host and timestamp is overwritten. */
  write(points: readonly MemoryPoint[], options?: RequestOptions): Promise<WriteReceipt>;
  /**
   * The `limit` points before the newest `skip` ones, oldest first, as the API's
   * JSON body: `[{"timestamp":…,"total":…,"free":…,"used":…}]`, compact, keys in
   * that order. JSON rather than objects: a page holds up to 99,999 records, and
   * SQLite builds the text faster than JavaScript can build objects and then text.
   */
  listJson(query: ListQuery): Promise<JsonBody>;
  /** Every host with its newest timestamp, newest first. */
  listHosts(): Promise<HostSummary[]>;
  /**
   * Resolves when the store answers this service; throws StoreUnavailableError
   * otherwise, or StoreRefusedError when it turns the service's credentials away.
   */
  health(): Promise<void>;
  close(): Promise<void>;
}

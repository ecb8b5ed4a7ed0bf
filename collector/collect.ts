import type { MemoryPoint, MemoryStore } from '../storage/types.js';
import type { Spool, SpoolContents } from './spool.js';

/** What one run did; the scheduler turns changes of state into log lines. */
export interface RunReport {
  /** Points the store stored in this run, replayed ones included. */
  readonly written: number;
  /**
   * Points the store took but dropped as older than it keeps (an InfluxDB retention
   * policy): out of the spool, never stored.
   */
  readonly beyondRetention: number;
  /** Points that left the spool for the store (stored, or dropped by its retention). */
  readonly replayed: number;
  /** Points left in the spool after the run. */
  readonly spooled: number;
  /** Oldest points dropped because the spool was full. */
  readonly dropped: number;
  /** Torn or invalid spool lines skipped. */
  readonly skippedLines: number;
  /** Why the store refused, when it did. */
  readonly storeError?: string;
  /** Its error's code: STORE_REFUSED (credentials, rights) is for an operator to end. */
  readonly storeErrorCode?: string;
  /**
   * Why the spool could not be read or take this run's points (a full or read-only
   * disk), when the store took them, and everything spooled before them, all the same.
   */
  readonly spoolError?: string;
}

export interface CollectOptions {
  readonly store: Pick<MemoryStore, 'write'>;
  readonly spool: Spool;
  /** Aborts store requests (cancel, deadline); what was not acknowledged stays spooled. */
  readonly signal: AbortSignal;
  /** Replay stops starting batches after this time (ms since the epoch). */
  readonly replayUntilMs: number;
}

/** Replayed points go to the store in batches of this many. */
export const REPLAY_BATCH = 1_000;

/**
 * Points that neither the store nor the spool took (the store failing while the
 * spool's disk is full or read-only): the caller holds them for the next run.
 */
export class UnsavedPointsError extends Error {
  readonly code = 'POINTS_UNSAVED';

  constructor(
    readonly points: readonly MemoryPoint[],
    spoolError: unknown,
    storeError: string | undefined,
  ) {
    const store = storeError === undefined ? 'the store' : `the store (${storeError})`;
    super(`neither ${store} nor the spool (${(spoolError as Error).message}) took ${points.length} point${points.length === 1 ? '' : 's'}`, { cause: spoolError });
  }
}

/**
 * Delivers `points` (a run's own, after any that earlier runs could neither store
 * nor spool), after everything still spooled, oldest first. Before it returns,
 * every point is either acknowledged by the store or fsynced in the spool; when
 * neither takes some of `points`, it throws UnsavedPointsError with them.
 */
export async function deliver(points: readonly MemoryPoint[], { store, spool, signal, replayUntilMs }: CollectOptions): Promise<RunReport> {
  let pending: SpoolContents;
  let unreadable: unknown;
  try {
    pending = spool.read();
  } catch (error) {
    // A spool that cannot be read (its directory not one, no rights, a failing disk)
    // must not keep the points from a store that works either.
    unreadable = error;
    pending = { points: [], skippedLines: 0, clean: true };
  }
  // Straight to the store, with nothing queued before them and few enough for one
  // write (many points held through a long failure go the batched way).
  if (pending.points.length === 0 && pending.clean && points.length <= REPLAY_BATCH) {
    try {
      const { beyondRetention } = await store.write(points, { signal });
      const report = { written: points.length - beyondRetention, beyondRetention, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 };
      return unreadable === undefined ? report : { ...report, spoolError: (unreadable as Error).message };
    } catch (error) {
      let dropped: number;
      try {
        dropped = spool.append(pending, points);
      } catch (spoolError) {
        throw new UnsavedPointsError(points, spoolError, describe(error).storeError);
      }
      return { written: 0, beyondRetention: 0, replayed: 0, spooled: points.length - dropped, dropped, skippedLines: 0, ...describe(error) };
    }
  }

  // Older points wait: the new ones join the queue, durably, before any replay. A
  // spool that cannot take them (a full or read-only disk) must not keep the queue
  // from a store that works: it is sent all the same, and what the store does not
  // take of the new points is unsaved only then.
  let dropped = 0;
  let spoolFailure: unknown;
  try {
    dropped = spool.append(pending, points);
  } catch (error) {
    spoolFailure = error;
  }
  const queue = [...pending.points, ...points].slice(dropped);
  let sent = 0;
  let beyondRetention = 0;
  let failure: StoreFailure | undefined;
  try {
    while (sent < queue.length && !signal.aborted && Date.now() < replayUntilMs) {
      const batch = queue.slice(sent, sent + REPLAY_BATCH);
      beyondRetention += (await store.write(batch, { signal })).beyondRetention;
      sent += batch.length;
    }
  } catch (error) {
    failure = describe(error);
  }
  if (spoolFailure !== undefined && sent < queue.length) {
    // The spooled points not sent stay spooled, as they were: only new ones are unsaved.
    throw new UnsavedPointsError(points.slice(Math.max(0, sent - pending.points.length)), spoolFailure, failure?.storeError);
  }
  if (sent > 0) {
    try {
      spool.replace(queue.slice(sent));
    } catch (error) {
      // All delivered: what the spool still holds is only sent again, harmlessly.
      if (spoolFailure === undefined) throw error;
    }
  }
  const fromSpool = Math.max(0, Math.min(sent, queue.length - points.length));
  return {
    written: sent - beyondRetention,
    beyondRetention,
    replayed: fromSpool,
    spooled: queue.length - sent,
    dropped,
    skippedLines: pending.skippedLines,
    ...failure,
    ...(spoolFailure === undefined ? {} : { spoolError: (spoolFailure as Error).message }),
  };
}

type StoreFailure = Pick<RunReport, 'storeError' | 'storeErrorCode'>;

function describe(error: unknown): StoreFailure {
  const code = (error as { code?: unknown } | undefined)?.code;
  return {
    storeError: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { storeErrorCode: code } : {}),
  };
}

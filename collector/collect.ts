import { messageOf } from '../errors.js';
import type { MemoryPoint, MemoryStore } from '../storage/types.js';
import type { Spool } from './spool.js';

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
  /**
   * With the spool unusable, the points of this run's that the store took none of
   * only for want of time (the run's replay time spent, or its deadline passed): the
   * caller holds them for the next runs, oldest first.
   */
  readonly unsent?: readonly MemoryPoint[];
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

/** A run's report before it did anything: each path of `deliver` says what it did on top. */
const NOTHING_DONE: RunReport = { written: 0, beyondRetention: 0, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 };

/**
 * Points that neither the store nor the spool took (the store failing while the
 * spool's disk is full or read-only): the caller holds them for the next runs.
 */
export class UnsavedPointsError extends Error {
  readonly code = 'POINTS_UNSAVED';

  constructor(
    readonly points: readonly MemoryPoint[],
    spoolError: unknown,
    /** What the run did before the store failed: the points it had stored by then count. */
    readonly report: RunReport,
  ) {
    const store = report.storeError === undefined ? 'the store' : `the store (${report.storeError})`;
    super(`neither ${store} nor the spool (${(spoolError as Error).message}) took ${points.length} point${points.length === 1 ? '' : 's'}`, { cause: spoolError });
  }
}

/**
 * Delivers `points` (a run's own, after any that earlier runs could neither store
 * nor spool), after everything still spooled, oldest first. Before it returns,
 * every point is either acknowledged by the store or fsynced in the spool, or, with
 * the spool unusable and no time left to send them, returned as `unsent`; when the
 * store refuses some of `points` that the spool cannot take, it throws
 * UnsavedPointsError with them.
 */
export async function deliver(points: readonly MemoryPoint[], { store, spool, signal, replayUntilMs }: CollectOptions): Promise<RunReport> {
  let spooledBefore: number;
  let unreadable: unknown;
  try {
    spooledBefore = spool.size();
  } catch (error) {
    // A spool that cannot be read (its directory not one, no rights, a failing disk)
    // must not keep the points from a store that works either.
    unreadable = error;
    spooledBefore = 0;
  }
  // Straight to the store, with nothing queued before them and few enough for one
  // write (many points held through a long failure go the batched way).
  if (spooledBefore === 0 && points.length <= REPLAY_BATCH) {
    try {
      const { beyondRetention } = await store.write(points, { signal });
      const report = { ...NOTHING_DONE, written: points.length - beyondRetention, beyondRetention };
      return unreadable === undefined ? report : { ...report, spoolError: (unreadable as Error).message };
    } catch (error) {
      let dropped: number;
      try {
        dropped = spool.append(points);
      } catch (spoolError) {
        const report = { ...NOTHING_DONE, ...describe(error), spoolError: (spoolError as Error).message };
        throw new UnsavedPointsError(points, spoolError, report);
      }
      return { ...NOTHING_DONE, spooled: points.length - dropped, dropped, ...describe(error) };
    }
  }

  // Older points wait: the new ones join the queue, durably, before any replay. A
  // spool that cannot take them (a full or read-only disk) must not keep the queue
  // from a store that works: it is sent all the same, the new points from memory
  // after it, and what the store does not take of them is unsaved only then.
  let dropped = 0;
  let spoolFailure: unknown = unreadable;
  if (spoolFailure === undefined) {
    try {
      dropped = spool.append(points);
    } catch (error) {
      spoolFailure = error;
    }
  }
  // The queue's lines that were there before this run's points.
  const olderLines = Math.max(0, spooledBefore - dropped);
  let consumedLines = 0;
  let sentFromSpool = 0;
  let sentFromMemory = 0;
  let beyondRetention = 0;
  let skippedLines = 0;
  let failure: StoreFailure | undefined;
  const replaying = (): boolean => !signal.aborted && Date.now() < replayUntilMs;
  try {
    if (unreadable === undefined && replaying()) {
      for (const batch of spool.batches(REPLAY_BATCH)) {
        if (batch.points.length > 0) beyondRetention += (await store.write(batch.points, { signal })).beyondRetention;
        try {
          spool.removeBefore(batch.end);
        } catch (error) {
          // Delivered: what the spool still holds is only sent again, harmlessly; but
          // a spool that worked a moment ago and now fails is the run's failure.
          if (spoolFailure === undefined) throw error;
        }
        consumedLines += batch.points.length + batch.skippedLines;
        sentFromSpool += batch.points.length;
        skippedLines += batch.skippedLines;
        if (!replaying()) break;
      }
    }
    if (spoolFailure !== undefined) {
      while (sentFromMemory < points.length && replaying()) {
        const batch = points.slice(sentFromMemory, sentFromMemory + REPLAY_BATCH);
        beyondRetention += (await store.write(batch, { signal })).beyondRetention;
        sentFromMemory += batch.length;
      }
    }
  } catch (error) {
    failure = describe(error);
  }
  const sentNewFromSpool = Math.max(0, consumedLines - olderLines);
  const report: RunReport = {
    written: sentFromSpool + sentFromMemory - beyondRetention,
    beyondRetention,
    replayed: sentFromSpool - sentNewFromSpool,
    // Lines, not points: a torn line counts until a replay reaches and skips it.
    spooled: Math.max(0, spooledBefore + (spoolFailure === undefined ? points.length - dropped : 0) - consumedLines),
    dropped,
    skippedLines,
    ...failure,
    ...(spoolFailure === undefined ? {} : { spoolError: (spoolFailure as Error).message }),
  };
  // The spooled points not sent stay spooled, as they were: only new ones are unsaved.
  const unsent = spoolFailure === undefined ? [] : points.slice(sentFromMemory);
  if (unsent.length === 0) return report;
  if (failure !== undefined) throw new UnsavedPointsError(unsent, spoolFailure, report);
  return { ...report, unsent };
}

type StoreFailure = Pick<RunReport, 'storeError' | 'storeErrorCode'>;

function describe(error: unknown): StoreFailure {
  const code = (error as { code?: unknown } | undefined)?.code;
  return {
    storeError: messageOf(error),
    ...(typeof code === 'string' ? { storeErrorCode: code } : {}),
  };
}

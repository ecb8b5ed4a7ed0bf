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
   * Why the spool could not take this run's point (a full or read-only disk), when
   * the store took it and everything spooled before it all the same.
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
 * Delivers `point`, after everything still spooled, oldest first. Before it
 * returns, every point is either acknowledged by the store or fsynced in the spool.
 */
export async function deliver(point: MemoryPoint, { store, spool, signal, replayUntilMs }: CollectOptions): Promise<RunReport> {
  const pending = spool.read();
  if (pending.points.length === 0 && pending.clean) {
    try {
      const { beyondRetention } = await store.write([point], { signal });
      return { written: 1 - beyondRetention, beyondRetention, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 };
    } catch (error) {
      const dropped = spool.append(pending, [point]);
      return { written: 0, beyondRetention: 0, replayed: 0, spooled: 1, dropped, skippedLines: 0, ...describe(error) };
    }
  }

  // Older points wait: the new one joins the queue, durably, before any replay. A
  // spool that cannot take it (a full or read-only disk) must not keep the queue
  // from a store that works: it is sent all the same, and the run fails (the point
  // lost) only if the store does not take all of it either.
  let dropped = 0;
  let spoolFailure: unknown;
  try {
    dropped = spool.append(pending, [point]);
  } catch (error) {
    spoolFailure = error;
  }
  const queue = [...pending.points, point].slice(dropped);
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
  if (spoolFailure !== undefined && sent < queue.length) throw spoolFailure;
  if (sent > 0) {
    try {
      spool.replace(queue.slice(sent));
    } catch (error) {
      // All delivered: what the spool still holds is only sent again, harmlessly.
      if (spoolFailure === undefined) throw error;
    }
  }
  const fromSpool = Math.min(sent, queue.length - 1);
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

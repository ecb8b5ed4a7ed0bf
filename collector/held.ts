import type { MemoryPoint } from '../storage/types.js';
import type { JobMessage } from './job-messages.js';

/**
 * The most held points one run is handed. A run's input is copied into its thread,
 * and a held week at one point a second (604,800) took every run over a second to
 * copy while the store was down: runs outlasted the interval, ticks were skipped
 * (their points never taken), and the collector used a whole core. Ten replay
 * batches cost a run about 15 ms more (measured by hand).
 */
export const HELD_PER_RUN = 10_000;

/** What the next run is handed. */
export interface HeldHand {
  /** The oldest held points, at most `HELD_PER_RUN`. */
  readonly points: readonly MemoryPoint[];
  /** More are held after them: the run hands its own point back, to join their end. */
  readonly more: boolean;
}

/** What a run's message did to the held points. */
export interface HeldSettled {
  /** Handed points a run that reported stored or spooled (a failed one's are not counted). */
  readonly delivered: number;
  /** The oldest let go of to keep within the bound. */
  readonly dropped: number;
}

/**
 * The points neither the store nor the spool took (the store down while the spool's
 * disk is full or read-only, or another collector holding its lock), oldest first,
 * that the scheduler holds in memory for later runs to deliver before their own.
 * Bounded like the spool: past `maxPoints`, the oldest are dropped.
 */
export class HeldPoints {
  private points: readonly MemoryPoint[] = [];
  private handed = 0;

  constructor(
    private readonly maxPoints: number,
    private readonly perRun = HELD_PER_RUN,
  ) {}

  get size(): number {
    return this.points.length;
  }

  /** The next run's share; a run that ends without a message leaves them held. */
  hand(): HeldHand {
    this.handed = Math.min(this.perRun, this.points.length);
    return { points: this.points.slice(0, this.handed), more: this.handed < this.points.length };
  }

  /**
   * After a run's message: a failure hands back what it could not save; a report,
   * what it had no time to send with the spool unusable (`unsent`). Either may hand
   * back its own point, to be held after the rest.
   */
  settle(message: JobMessage): HeldSettled {
    const unsaved = message.type === 'failed' ? message.unsaved : (message.report.unsent ?? []);
    // A run sends oldest first: the handed points, then its own unless handed back.
    const sent = this.handed + (message.sample === undefined ? 1 : 0) - unsaved.length;
    const delivered = message.type === 'report' ? Math.min(this.handed, Math.max(0, sent)) : 0;
    const points = unsaved.concat(this.points.slice(this.handed), message.sample === undefined ? [] : [message.sample]);
    const dropped = Math.max(0, points.length - this.maxPoints);
    this.points = dropped > 0 ? points.slice(dropped) : points;
    this.handed = 0;
    return { delivered, dropped };
  }
}

import type { CollectorConfig, StoreConfig } from '../config.js';
import type { MemoryPoint } from '../storage/types.js';
import type { RunReport } from './collect.js';

/** What the scheduler hands each run (Bree's workerData): the run's entry is its store's. */
export interface JobInput<K extends StoreConfig['kind'] = StoreConfig['kind']> {
  readonly collector: CollectorConfig;
  readonly store: Extract<StoreConfig, { kind: K }>;
  /** The tick this run samples for: the point's timestamp. */
  readonly tickMs: number;
  /** Points of earlier runs that neither the store nor the spool took, oldest first: delivered before this run's. */
  readonly held: readonly MemoryPoint[];
  /**
   * More are held after `held`: this run delivers `held` only and hands its own point
   * back (`sample`), so that points still go out oldest first.
   */
  readonly moreHeld: boolean;
}

/** What a run tells the scheduler, before Bree's own 'done' or 'cancelled'. */
export type JobMessage = (
  | {
      readonly type: 'report';
      readonly tickMs: number;
      readonly report: RunReport;
      /** The collector's stop cancelled the run: a store error in the report is the cancellation's. */
      readonly cancelled: boolean;
    }
  | {
      readonly type: 'failed';
      readonly tickMs: number;
      readonly code: string;
      readonly message: string;
      /** The held points (and this run's, unless handed back) that neither the store nor the spool took: the scheduler holds them for the next runs. */
      readonly unsaved: readonly MemoryPoint[];
      /** What the run did before the store failed (points it stored), when it got to the store. */
      readonly report?: RunReport;
      /**
       * Whether the run read its point before failing (it is then among `unsaved`, or
       * `sample`): one whose meminfo could not be read took none, and does not mark
       * the heartbeat file.
       */
      readonly sampled: boolean;
    }
) & {
  /** This run's own point, handed back undelivered because more points are held (`moreHeld`). */
  readonly sample?: MemoryPoint;
};

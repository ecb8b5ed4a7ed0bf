import type { CollectorConfig, StoreConfig } from '../config.js';
import type { RunReport } from './collect.js';

/** What the scheduler hands each run (Bree's workerData): the run's entry is its store's. */
export interface JobInput<K extends StoreConfig['kind'] = StoreConfig['kind']> {
  readonly collector: CollectorConfig;
  readonly store: Extract<StoreConfig, { kind: K }>;
  /** The tick this run samples for: the point's timestamp. */
  readonly tickMs: number;
}

/** What a run tells the scheduler, before Bree's own 'done' or 'cancelled'. */
export type JobMessage =
  | {
      readonly type: 'report';
      readonly tickMs: number;
      readonly report: RunReport;
      /** The collector's stop cancelled the run: a store error in the report is the cancellation's. */
      readonly cancelled: boolean;
    }
  | { readonly type: 'failed'; readonly tickMs: number; readonly code: string; readonly message: string };

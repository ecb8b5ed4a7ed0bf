import type { CollectorConfig, StoreConfig } from '../config.js';
import type { RunReport } from './collect.js';

/** What the scheduler hands each run (Bree's workerData). */
export interface JobInput {
  readonly collector: CollectorConfig;
  readonly store: StoreConfig;
  /** The tick this run samples for: the point's timestamp. */
  readonly tickMs: number;
}

/** What a run tells the scheduler, before Bree's own 'done' or 'cancelled'. */
export type JobMessage =
  | { readonly type: 'report'; readonly tickMs: number; readonly report: RunReport }
  | { readonly type: 'failed'; readonly tickMs: number; readonly code: string; readonly message: string };

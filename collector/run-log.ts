import type { Logger } from '../log.js';
import type { RunReport } from './collect.js';
import type { HeldSettled } from './held.js';
import type { JobMessage } from './job-messages.js';
import type { CollectorStats } from './stats.js';

/**
 * Why a run's writes failed: refused (credentials, rights), rejected (the store
 * answered that it will not take these points, e.g. InfluxDB's field type conflict
 * with another writer's `memory`), or unreachable.
 */
type StoreState = 'refused' | 'rejected' | 'unreachable';

const STATE_BY_CODE: Readonly<Record<string, StoreState>> = {
  STORE_REFUSED: 'refused',
  STORE_REQUEST_FAILED: 'rejected',
};

/** Each state's line; a refusal or a rejection does not pass by itself, so an operator must act. */
const STATE_LOGS: Readonly<Record<StoreState, { level: 'error' | 'warn'; message: string }>> = {
  refused: { level: 'error', message: 'store refused the collector, spooling' },
  rejected: { level: 'error', message: 'store rejected the points, spooling' },
  unreachable: { level: 'warn', message: 'store unreachable, spooling' },
};

/** Undefined when the run's writes did not fail. */
function storeStateOf(report: RunReport): StoreState | undefined {
  if (report.storeError === undefined) return undefined;
  return STATE_BY_CODE[report.storeErrorCode ?? ''] ?? 'unreachable';
}

/** Turns run reports into log lines on changes of state only: quiet while healthy. */
export class RunLog {
  private storeState: StoreState | undefined;
  private runsFailing = false;
  private spoolFailing = false;
  private spoolDropping = false;
  private heldDropping = false;
  private heartbeatFailing = false;
  private runsEndingAbnormally = false;

  constructor(
    private readonly log: Logger,
    private readonly stats: CollectorStats,
  ) {}

  /** `runPoints`: the points the run had to deliver, held ones included. */
  record(message: JobMessage, runPoints: number): void {
    if (this.runsEndingAbnormally) this.log.info('collector runs end normally again');
    this.runsEndingAbnormally = false;
    if (message.type === 'failed') {
      this.stats.failures++;
      if (message.report !== undefined) this.count(message.report);
      if (!this.runsFailing) this.log.error({ code: message.code, tickMs: message.tickMs }, `collector run failed: ${message.message}`);
      this.runsFailing = true;
      return;
    }
    if (this.runsFailing) this.log.info('collector runs work again');
    this.runsFailing = false;
    const { report } = message;
    this.stats.runs++;
    this.count(report);
    if (report.storeError !== undefined) this.stats.pointsSpooled += runPoints;
    // Once per streak: a full spool drops at every run until the store is back.
    if (report.dropped > 0 && !this.spoolDropping) this.log.warn({ dropped: report.dropped, spooled: report.spooled }, 'spool full, dropping the oldest points');
    this.spoolDropping = report.dropped > 0;
    if (report.beyondRetention > 0) this.log.warn({ dropped: report.beyondRetention }, 'store dropped points older than its retention policy');
    if (report.skippedLines > 0) this.log.warn({ skippedLines: report.skippedLines }, 'skipped torn or invalid spool lines');
    if (report.spoolError !== undefined && !this.spoolFailing) {
      this.log.warn({ reason: report.spoolError }, 'spool cannot be read or written: points go to the store directly, and while it fails they are held in memory only (lost if the process ends)');
    }
    this.spoolFailing = report.spoolError !== undefined;
    if (report.replayed > 0) this.log.info({ replayed: report.replayed, spooled: report.spooled }, `replayed ${report.replayed} points`);
    if (message.cancelled && report.storeError !== undefined) {
      // The stop aborted the run's writes: that says nothing of the store's state.
      this.log.info({ spooled: report.spooled }, 'collector run cancelled by stop, its points stay spooled');
      return;
    }
    const storeState = storeStateOf(report);
    if (storeState !== undefined && storeState !== this.storeState) {
      const { level, message } = STATE_LOGS[storeState];
      this.log[level]({ reason: report.storeError, spooled: report.spooled }, message);
    }
    this.storeState = storeState;
  }

  /** What a run stored, dropped and left spooled: a failed run's too, up to its failure. */
  private count(report: RunReport): void {
    this.stats.pointsWritten += report.written;
    this.stats.pointsDropped += report.dropped;
    this.stats.pointsBeyondRetention += report.beyondRetention;
    this.stats.spoolDepth = report.spooled;
    if (report.written > 0) this.stats.lastWriteSeconds = Math.floor(Date.now() / 1_000);
  }

  /** `held`: how many are held after the run. */
  recordHeld({ delivered, dropped }: HeldSettled, held: number): void {
    this.stats.pointsHeld = held;
    this.stats.pointsDropped += dropped;
    // Once per streak, as for the spool: at the bound, every run drops one.
    if (dropped > 0 && !this.heldDropping) this.log.warn({ dropped, held }, 'points held in memory past SPOOL_MAX_POINTS, dropping the oldest');
    this.heldDropping = dropped > 0;
    if (delivered > 0) this.log.info({ delivered, held }, 'points held in memory delivered');
  }

  /** A run that ended without a message: ended at COLLECT_TIMEOUT (`timeoutMs`), or crashed. */
  recordAbnormalEnd(error: unknown, timeoutMs: number): void {
    this.stats.failures++;
    // Once per streak: a run that crashes at load (say) crashes at every tick.
    if (!this.runsEndingAbnormally) this.log.error({ err: error, timeoutMs }, 'collector run ended abnormally (timeout or crash); its point is spooled if it was sampled');
    this.runsEndingAbnormally = true;
  }

  /** After each run's write of the heartbeat file: `error` when it failed. */
  recordHeartbeat(error?: unknown): void {
    // Once per streak: a directory that cannot be written stays so until an operator acts.
    if (error !== undefined && !this.heartbeatFailing) this.log.warn({ err: error }, 'cannot write the heartbeat file: the collector healthcheck fails until it can');
    if (error === undefined && this.heartbeatFailing) this.log.info('heartbeat file written again');
    this.heartbeatFailing = error !== undefined;
  }
}

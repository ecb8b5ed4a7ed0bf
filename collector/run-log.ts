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

/**
 * A condition that holds over a streak of runs (the spool full, the heartbeat file
 * unwritable): logged when it begins, and for some when it ends, not at every run.
 */
class Streak {
  private holding = false;

  /** Whether the condition holds after this run: 'began' or 'ended' when that changed. */
  update(holds: boolean): 'began' | 'ended' | undefined {
    const change = holds === this.holding ? undefined : holds ? 'began' : 'ended';
    this.holding = holds;
    return change;
  }
}

/** Turns run reports into log lines on changes of state only: quiet while healthy. */
export class RunLog {
  private storeState: StoreState | undefined;
  private readonly runsFailing = new Streak();
  private readonly runsEndingAbnormally = new Streak();
  private readonly spoolFailing = new Streak();
  private readonly spoolDropping = new Streak();
  private readonly heldDropping = new Streak();
  private readonly heartbeatFailing = new Streak();

  constructor(
    private readonly log: Logger,
    private readonly stats: CollectorStats,
  ) {}

  /** `runPoints`: the points the run had to deliver, held ones included. */
  record(message: JobMessage, runPoints: number): void {
    if (this.runsEndingAbnormally.update(false) === 'ended') this.log.info('collector runs end normally again');
    if (message.type === 'failed') {
      this.stats.failures++;
      if (message.report !== undefined) this.count(message.report);
      if (this.runsFailing.update(true) === 'began') this.log.error({ code: message.code, tickMs: message.tickMs }, `collector run failed: ${message.message}`);
      return;
    }
    if (this.runsFailing.update(false) === 'ended') this.log.info('collector runs work again');
    const { report } = message;
    this.stats.runs++;
    this.count(report);
    if (report.storeError !== undefined) this.stats.pointsSpooled += runPoints;
    // A full spool drops at every run until the store is back.
    if (this.spoolDropping.update(report.dropped > 0) === 'began') this.log.warn({ dropped: report.dropped, spooled: report.spooled }, 'spool full, dropping the oldest points');
    if (report.beyondRetention > 0) this.log.warn({ dropped: report.beyondRetention }, 'store dropped points older than its retention policy');
    if (report.skippedLines > 0) this.log.warn({ skippedLines: report.skippedLines }, 'skipped torn or invalid spool lines');
    if (this.spoolFailing.update(report.spoolError !== undefined) === 'began') {
      this.log.warn({ reason: report.spoolError }, 'spool cannot be read or written: points go to the store directly, and while it fails they are held in memory only (lost if the process ends)');
    }
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
    // As for the spool: at the bound, every run drops one.
    if (this.heldDropping.update(dropped > 0) === 'began') this.log.warn({ dropped, held }, 'points held in memory past SPOOL_MAX_POINTS, dropping the oldest');
    if (delivered > 0) this.log.info({ delivered, held }, 'points held in memory delivered');
  }

  /** A run that ended without a message: ended at COLLECT_TIMEOUT (`timeoutMs`), or crashed. */
  recordAbnormalEnd(error: unknown, timeoutMs: number): void {
    this.stats.failures++;
    // A run that crashes at load (say) crashes at every tick.
    if (this.runsEndingAbnormally.update(true) === 'began') this.log.error({ err: error, timeoutMs }, 'collector run ended abnormally (timeout or crash); its point is spooled if it was sampled');
  }

  /** After each run's write of the heartbeat file: `error` when it failed. */
  recordHeartbeat(error?: unknown): void {
    // A directory that cannot be written stays so until an operator acts.
    const change = this.heartbeatFailing.update(error !== undefined);
    if (change === 'began') this.log.warn({ err: error }, 'cannot write the heartbeat file: the collector healthcheck fails until it can');
    if (change === 'ended') this.log.info('heartbeat file written again');
  }
}

/** The first multiple of `intervalMs` since the Unix epoch strictly after `nowMs`. */
export function nextTickMs(nowMs: number, intervalMs: number): number {
  return (Math.floor(nowMs / intervalMs) + 1) * intervalMs;
}

/**
 * How far the wall clock may be behind a tick when the tick's timer fires before
 * that counts as the clock having been set back. Timers run on the monotonic clock,
 * and the wall clock drifts from it by milliseconds (NTP slewing it, rounding); a
 * clock set back (NTP stepping a clock that ran ahead, an operator) moves it by more.
 */
export const CLOCK_SET_BACK_MS = 1_000;

/**
 * The tick to wait for after `lastTickMs`: the next after the clock, and after the
 * last tick, so that a timer firing a hair before its tick does not give the same
 * tick twice. Unless the clock is behind the last tick by more than
 * CLOCK_SET_BACK_MS: it was set back, and ticks follow it from now on (the
 * alternative, waiting for it to catch up with the last tick, samples nothing for as
 * long as it was set back).
 */
export function tickAfterMs(nowMs: number, lastTickMs: number, intervalMs: number): number {
  return nextTickMs(clockSetBack(nowMs, lastTickMs) ? nowMs : Math.max(nowMs, lastTickMs), intervalMs);
}

/** True when the clock reads more than CLOCK_SET_BACK_MS before a tick already due. */
export function clockSetBack(nowMs: number, dueTickMs: number): boolean {
  return dueTickMs - nowMs > CLOCK_SET_BACK_MS;
}

/**
 * The tick a sample taken at `nowMs` for the tick `dueTickMs` carries: that tick,
 * unless its timer fired a whole interval or more after it. Timers wait on the
 * monotonic clock, which a wall clock set forward, or a machine suspended, leaves
 * behind; and a process held up fires them late. The sample is of now, so it
 * carries the last tick at or before now, not one long past.
 */
export function tickTakenAtMs(dueTickMs: number, nowMs: number, intervalMs: number): number {
  return Math.max(dueTickMs, Math.floor(nowMs / intervalMs) * intervalMs);
}

import { expect } from 'chai';
import { clockSetBack, CLOCK_SET_BACK_MS, nextTickMs, tickAfterMs, tickTakenAtMs } from '../../../collector/ticks.js';

describe('nextTickMs', () => {
  const cases: Array<[now: number, interval: number, next: number]> = [
    [Date.UTC(2026, 0, 1, 12, 0, 0, 1), 60_000, Date.UTC(2026, 0, 1, 12, 1, 0)],
    [Date.UTC(2026, 0, 1, 12, 0, 59, 999), 60_000, Date.UTC(2026, 0, 1, 12, 1, 0)],
    [Date.UTC(2026, 0, 1, 12, 1, 0), 60_000, Date.UTC(2026, 0, 1, 12, 2, 0)], // exactly on a tick: the next one
    [1_500, 1_000, 2_000],
    [7_001, 7_000, 14_000],
  ];
  for (const [now, interval, next] of cases) {
    it(`${new Date(now).toISOString()} every ${interval} ms -> ${new Date(next).toISOString()}`, () => {
      expect(nextTickMs(now, interval)).to.equal(next);
    });
  }
});

describe('tickAfterMs: the tick to wait for after the last one', () => {
  const minute = 60_000;
  const last = Date.UTC(2026, 0, 1, 12, 1, 0);
  const cases: Array<[what: string, now: number, next: number]> = [
    ['the timer fired on its tick', last + 3, last + minute],
    ['the timer fired a hair before its tick by the wall clock: not the same tick again', last - 2, last + minute],
    ['the clock slewed a whole second back: still not the same tick again', last - 1_000, last + minute],
    ['the clock was set back a little over a second: the tick after the clock', last - 1_001, last],
    ['the clock was set back an hour: the tick after the clock, not an hour of nothing', last - 3_600_000 + 5, last - 3_600_000 + minute],
    ['the clock was set forward: the tick after the clock', last + 10 * minute + 5, last + 11 * minute],
  ];
  for (const [what, now, next] of cases) {
    it(`${what}: ${new Date(next).toISOString()}`, () => {
      expect(tickAfterMs(now, last, minute)).to.equal(next);
    });
  }

  it('before any tick, the tick after the clock', () => {
    expect(tickAfterMs(last + 5, 0, minute)).to.equal(last + minute);
  });

  it('tells a clock set back from a timer that fired early by CLOCK_SET_BACK_MS', () => {
    expect(clockSetBack(last - CLOCK_SET_BACK_MS, last)).to.equal(false);
    expect(clockSetBack(last - CLOCK_SET_BACK_MS - 1, last)).to.equal(true);
    expect(clockSetBack(last + 1, last)).to.equal(false);
  });
});

describe('tickTakenAtMs: the tick a sample carries', () => {
  const minute = 60_000;
  const due = Date.UTC(2026, 0, 1, 12, 1, 0);
  const cases: Array<[what: string, now: number, carried: number]> = [
    ['taken on its tick', due + 4, due],
    ['taken a hair before its tick by the wall clock', due - 3, due],
    ['taken late by less than an interval', due + minute - 1, due],
    ['taken a whole interval late', due + minute, due + minute],
    ['taken an hour late (a clock set forward, a machine resumed)', due + 3_600_000 + 1_234, due + 3_600_000],
  ];
  for (const [what, now, carried] of cases) {
    it(`${what}: ${new Date(carried).toISOString()}`, () => {
      expect(tickTakenAtMs(due, now, minute)).to.equal(carried);
    });
  }
});

import { expect } from 'chai';
import { nextTickMs } from '../../../collector/ticks.js';

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

import { expect } from 'chai';
import { HeldPoints } from '../../../collector/held.js';
import type { JobMessage } from '../../../collector/job-messages.js';
import type { MemoryPoint } from '../../../storage/types.js';

const at = (timestamp: number): MemoryPoint => ({ host: 'h', timestamp, total: 2, free: 1, used: 1 });
const times = (points: readonly MemoryPoint[]): number[] => points.map((point) => point.timestamp);
const report = { written: 1, beyondRetention: 0, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 };
const reported = (sample?: MemoryPoint, unsent?: readonly MemoryPoint[]): JobMessage => ({
  type: 'report',
  tickMs: 0,
  report: unsent === undefined ? report : { ...report, unsent },
  cancelled: false,
  ...(sample === undefined ? {} : { sample }),
});
const failed = (unsaved: readonly MemoryPoint[], sample?: MemoryPoint): JobMessage => ({
  type: 'failed',
  tickMs: 0,
  code: 'POINTS_UNSAVED',
  sampled: true,
  message: '',
  unsaved,
  ...(sample === undefined ? {} : { sample }),
});

/** Held points as a run that failed with them unsaved leaves them. */
function holding(timestamps: number[], maxPoints: number, perRun?: number): HeldPoints {
  const held = new HeldPoints(maxPoints, perRun);
  held.hand();
  held.settle(failed(timestamps.map(at)));
  return held;
}

describe('HeldPoints: the points the scheduler holds between runs', () => {
  it('holds what a failed run could not save, and lets go of it once a run reports', () => {
    const held = holding([1, 2, 3], 10);
    expect(held.size).to.equal(3);
    const hand = held.hand();
    expect(times(hand.points)).to.deep.equal([1, 2, 3]);
    expect(hand.more).to.equal(false);
    expect(held.settle(reported())).to.deep.equal({ delivered: 3, dropped: 0 });
    expect(held.size).to.equal(0);
    expect(held.hand()).to.deep.equal({ points: [], more: false });
  });

  it('keeps the newest within its bound, counting the oldest it drops', () => {
    const held = new HeldPoints(3);
    held.hand();
    expect(held.settle(failed([at(1), at(2), at(3), at(4)]))).to.deep.equal({ delivered: 0, dropped: 1 });
    expect(times(held.hand().points)).to.deep.equal([2, 3, 4]);
  });

  it('hands a run at most its share, oldest first, and holds a point handed back after the rest', () => {
    const held = holding([1, 2, 3, 4, 5], 100, 2);
    const first = held.hand();
    expect(times(first.points)).to.deep.equal([1, 2]);
    expect(first.more).to.equal(true);
    // The run delivered its share and handed its own point back: it joins the end.
    expect(held.settle(reported(at(6)))).to.deep.equal({ delivered: 2, dropped: 0 });
    const second = held.hand();
    expect(times(second.points)).to.deep.equal([3, 4]);
    // This one saved none of its share.
    expect(held.settle(failed(second.points, at(7)))).to.deep.equal({ delivered: 0, dropped: 0 });
    expect(times(held.hand().points)).to.deep.equal([3, 4]);
    held.settle(reported(at(8)));
    const last = held.hand();
    expect(times(last.points)).to.deep.equal([5, 6]);
    expect(last.more).to.equal(true);
    held.settle(reported(at(9)));
    expect(times(held.hand().points)).to.deep.equal([7, 8]);
    held.settle(reported(at(10)));
    const drained = held.hand();
    expect(times(drained.points)).to.deep.equal([9, 10]);
    expect(drained.more, 'the run that is handed the last held points delivers its own after them').to.equal(false);
  });

  it('holds what a reporting run had no time to send, before the rest and its own point', () => {
    const held = holding([1, 2, 3, 4], 100, 3);
    expect(times(held.hand().points)).to.deep.equal([1, 2, 3]);
    // Sent 1 only; 2 and 3 wait, still before 4 and the run's own point.
    expect(held.settle(reported(at(5), [at(2), at(3)]))).to.deep.equal({ delivered: 1, dropped: 0 });
    expect(times(held.hand().points)).to.deep.equal([2, 3, 4]);
    expect(held.settle(reported(at(6), [at(4)]))).to.deep.equal({ delivered: 2, dropped: 0 });
    const last = held.hand();
    expect(times(last.points)).to.deep.equal([4, 5, 6]);
    expect(last.more).to.equal(false);
    // Its own point went after them, and it had no time for the last two.
    expect(held.settle(reported(undefined, [at(6), at(7)]))).to.deep.equal({ delivered: 2, dropped: 0 });
    expect(times(held.hand().points)).to.deep.equal([6, 7]);
  });
});

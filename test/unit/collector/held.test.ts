import { expect } from 'chai';
import { heldAfter } from '../../../collector/held.js';
import type { MemoryPoint } from '../../../storage/types.js';

const at = (timestamp: number): MemoryPoint => ({ host: 'h', timestamp, total: 2, free: 1, used: 1 });
const report = { written: 1, beyondRetention: 0, replayed: 0, spooled: 0, dropped: 0, skippedLines: 0 };

describe('heldAfter: the points the scheduler holds between runs', () => {
  it('lets go of everything once a run reports, and holds what a failed run could not save', () => {
    expect(heldAfter({ type: 'report', tickMs: 0, report, cancelled: false }, 10)).to.deep.equal({ points: [], dropped: 0 });
    const unsaved = [at(1), at(2), at(3)];
    expect(heldAfter({ type: 'failed', tickMs: 0, code: 'POINTS_UNSAVED', message: '', unsaved }, 10)).to.deep.equal({ points: unsaved, dropped: 0 });
  });

  it('keeps the newest within its bound, counting the oldest it drops', () => {
    const unsaved = [at(1), at(2), at(3), at(4)];
    expect(heldAfter({ type: 'failed', tickMs: 0, code: 'POINTS_UNSAVED', message: '', unsaved }, 3)).to.deep.equal({ points: [at(2), at(3), at(4)], dropped: 1 });
  });
});

import { expect } from 'chai';
import { positionInBuckets, type BucketCount } from '../../../storage/window.js';

describe('positionInBuckets: a deep offset, found by counts per bucket', () => {
  // Buckets of 100 s holding 3, 0 (left out, as fill(none) leaves it), 5 and 2 points.
  const buckets: BucketCount[] = [
    [1_000, 3],
    [1_200, 5],
    [1_300, 2],
  ];

  it('stays in the newest bucket while the offset is inside it, ending at the window', () => {
    expect(positionInBuckets(buckets, 100, 1_350, 0)).to.deep.equal({ toSeconds: 1_350, offset: 0 });
    expect(positionInBuckets(buckets, 100, 1_350, 1)).to.deep.equal({ toSeconds: 1_350, offset: 1 });
  });

  it('moves to the end of an older bucket at its first point from the newest, offset by the points after it', () => {
    expect(positionInBuckets(buckets, 100, 1_350, 2)).to.deep.equal({ toSeconds: 1_299, offset: 0 });
    expect(positionInBuckets(buckets, 100, 1_350, 6)).to.deep.equal({ toSeconds: 1_299, offset: 4 });
    expect(positionInBuckets(buckets, 100, 1_350, 7)).to.deep.equal({ toSeconds: 1_099, offset: 0 });
    expect(positionInBuckets(buckets, 100, 1_350, 9)).to.deep.equal({ toSeconds: 1_099, offset: 2 });
  });

  it('finds nothing past the last point counted, or in no buckets', () => {
    expect(positionInBuckets(buckets, 100, 1_350, 10)).to.equal(undefined);
    expect(positionInBuckets([], 100, 1_350, 0)).to.equal(undefined);
  });
});

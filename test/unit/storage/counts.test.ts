import { expect } from 'chai';
import { bucketAt, type BucketCount } from '../../../storage/counts.js';

describe('bucketAt: a deep offset, found by counts of points per bucket', () => {
  // Newest bucket first: 2, 5 and 3 points (an empty bucket is left out, as SQLite's
  // day counts and InfluxDB's fill(none) leave it).
  const counts: Array<BucketCount<string>> = [
    ['newest', 2],
    ['middle', 5],
    ['oldest', 3],
  ];

  it('stays in the newest bucket while the offset is inside it', () => {
    expect(bucketAt(counts, 0)).to.deep.equal({ bucket: 'newest', offset: 0 });
    expect(bucketAt(counts, 1)).to.deep.equal({ bucket: 'newest', offset: 1 });
  });

  it('moves to an older bucket at its newest point, offset by the points of the newer ones', () => {
    expect(bucketAt(counts, 2)).to.deep.equal({ bucket: 'middle', offset: 0 });
    expect(bucketAt(counts, 6)).to.deep.equal({ bucket: 'middle', offset: 4 });
    expect(bucketAt(counts, 7)).to.deep.equal({ bucket: 'oldest', offset: 0 });
    expect(bucketAt(counts, 9)).to.deep.equal({ bucket: 'oldest', offset: 2 });
  });

  it('finds nothing past the last point counted, or in no buckets', () => {
    expect(bucketAt(counts, 10)).to.equal(undefined);
    expect(bucketAt([], 0)).to.equal(undefined);
  });

  it('reads the counts only as far as the bucket it finds', () => {
    let read = 0;
    function* counted(): Generator<BucketCount<string>> {
      for (const one of counts) {
        read++;
        yield one;
      }
    }
    bucketAt(counted(), 3);
    expect(read).to.equal(2);
  });
});

import { expect } from 'chai';
import { TokenBuckets } from '../../../api/token-bucket.js';

describe('TokenBuckets (Traefik semantics, an injected clock)', () => {
  it('lets a burst through, then refuses until a token refills', () => {
    const buckets = new TokenBuckets(5, 60_000, 5); // 5 a minute, burst 5
    for (let i = 0; i < 5; i++) expect(buckets.take('a', 0), `request ${i + 1}`).to.equal(0);
    expect(buckets.take('a', 0)).to.equal(12_000); // one token per 12 s
    expect(buckets.take('a', 11_999)).to.equal(1);
    expect(buckets.take('a', 12_000)).to.equal(0);
    expect(buckets.take('a', 12_000)).to.equal(12_000);
  });

  it('keeps clients apart', () => {
    const buckets = new TokenBuckets(1, 1_000, 1);
    expect(buckets.take('a', 0)).to.equal(0);
    expect(buckets.take('a', 0)).to.be.greaterThan(0);
    expect(buckets.take('b', 0)).to.equal(0);
  });

  it('refills to the burst and no further', () => {
    const buckets = new TokenBuckets(10, 1_000, 3);
    for (let i = 0; i < 3; i++) buckets.take('a', 0);
    const allowed = [0, 1, 2, 3].map(() => buckets.take('a', 3_600_000)).filter((wait) => wait === 0).length;
    expect(allowed).to.equal(3);
  });

  it('forgets idle clients, and never holds more than its bound', () => {
    const buckets = new TokenBuckets(1, 1_000, 1, 100);
    for (let i = 0; i < 50; i++) buckets.take(`idle-${i}`, 0);
    buckets.take('late', 10_000);
    expect(buckets.size).to.equal(1);
    for (let i = 0; i < 1_000; i++) buckets.take(`burst-${i}`, 20_000);
    expect(buckets.size).to.be.at.most(100);
  });
});

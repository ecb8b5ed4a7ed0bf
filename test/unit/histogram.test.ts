import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../../histogram.js';

const NAME = 'test_duration_seconds';
const HELP = 'A test histogram.';
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const LABEL_NAMES = ['route', 'method', 'status'] as const;

/** Observations on several label sets, in an interleaved order: values on a bound, between bounds, past the last. */
const OBSERVATIONS: ReadonlyArray<readonly [route: string, method: string, status: string, seconds: number]> = [
  ['/memory-logs/', 'GET', '200', 0.0004],
  ['/memory-logs/', 'GET', '422', 0.0005],
  ['/memory-logs/', 'GET', '200', 0.0011],
  ['unmatched', 'POST', '405', 7],
  ['/memory-logs/', 'GET', '200', 0.25],
  ['/hosts/', 'GET', '200', 0.003],
  ['/memory-logs/', 'HEAD', '200', 0],
  ['/memory-logs/', 'GET', '200', 5],
  ['unmatched', 'POST', '405', 0.07],
];

/** The same observations through prom-client's own Histogram and through FastHistogram: each registry's text. */
async function bothExpositions(observations: typeof OBSERVATIONS, reset = false): Promise<[theirs: string, ours: string]> {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: NAME, help: HELP, labelNames: LABEL_NAMES, buckets: BUCKETS, registers: [theirs] });
  const fast = new FastHistogram({ name: NAME, help: HELP, labelNames: LABEL_NAMES, buckets: BUCKETS, registry: ours });
  for (const [route, method, status, seconds] of observations) {
    reference.observe({ route, method, status }, seconds);
    fast.labels(route, method, status).observe(seconds);
  }
  if (reset) {
    theirs.resetMetrics();
    ours.resetMetrics();
  }
  return [await theirs.metrics(), await ours.metrics()];
}

describe('FastHistogram', () => {
  it("exposes what prom-client's own Histogram does for the same observations, byte for byte", async () => {
    const [theirs, ours] = await bothExpositions(OBSERVATIONS);
    expect(theirs).to.include(`${NAME}_bucket{le="+Inf",route="unmatched",method="POST",status="405"} 2`);
    expect(ours).to.equal(theirs);
  });

  it('is emptied by the registry as prom-client empties its own', async () => {
    const [theirs, ours] = await bothExpositions(OBSERVATIONS, true);
    expect(theirs).not.to.include('route=');
    expect(ours).to.equal(theirs);
  });

  it('refuses a number of label values other than its label names', () => {
    const fast = new FastHistogram({ name: NAME, help: HELP, labelNames: LABEL_NAMES, buckets: BUCKETS, registry: new Registry() });
    expect(() => fast.labels('/memory-logs/', 'GET')).to.throw(`${NAME} takes 3 label values, got 2`);
  });
});

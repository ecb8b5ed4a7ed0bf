import { expect } from 'chai';
import { NoFreeSlotError, Slots } from '../../slots.js';
import { failureOf } from '../helpers/failure.js';

describe('Slots', () => {
  it('gives its slots at once, then each given back to the longest waiting', async () => {
    const slots = new Slots(2);
    const first = await slots.take(1_000);
    await slots.take(1_000);
    const granted: string[] = [];
    const second = slots.take(1_000).then((release) => (granted.push('b'), release));
    const third = slots.take(1_000).then((release) => (granted.push('c'), release));
    await new Promise((resolve) => setImmediate(resolve));
    expect(granted, 'while every slot is taken').to.deep.equal([]);
    first();
    (await second)();
    await third;
    expect(granted).to.deep.equal(['b', 'c']);
  });

  it('gives a wait up after its limit, and leaves the line', async () => {
    const slots = new Slots(1);
    const taken = await slots.take(1_000);
    const failure = await failureOf(slots.take(20));
    expect(failure).to.be.instanceOf(NoFreeSlotError);
    expect((failure as Error).message).to.equal('all 1 slots stayed taken for 20 ms');
    taken();
    // The slot is free, not handed to the wait that gave up.
    const again = await Promise.race([slots.take(1_000), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 100))]);
    expect(again).to.be.a('function');
  });

  it('takes a slot back once, however often it is given back', async () => {
    const slots = new Slots(1);
    const release = await slots.take(1_000);
    release();
    release();
    await slots.take(1_000);
    expect(await failureOf(slots.take(20))).to.be.instanceOf(NoFreeSlotError);
  });
});

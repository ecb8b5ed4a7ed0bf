import { expect } from 'chai';
import { BoundedMap } from '../../bounded-map.js';

describe('BoundedMap', () => {
  it('forgets the oldest entry when a new key would pass its capacity', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('c', 3);
    expect([...map]).to.deep.equal([
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('keeps every entry when a key it holds is set again', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 10);
    expect([...map]).to.deep.equal([
      ['a', 10],
      ['b', 2],
    ]);
  });
});

import { expect } from 'chai';
import { clientAddress, proxyList } from '../../../api/rate-limit.js';

function context(peer: string, forwardedFor = '') {
  return { get: (name: string) => (name === 'X-Forwarded-For' ? forwardedFor : ''), req: { socket: { remoteAddress: peer } } };
}

describe('clientAddress', () => {
  const trusted = proxyList(['10.0.0.0/8', '::1']);
  const cases: Array<[peer: string, forwardedFor: string, expected: string]> = [
    ['203.0.113.9', '', '203.0.113.9'],
    ['203.0.113.9', '1.2.3.4', '203.0.113.9'], // an untrusted peer cannot claim another address
    ['::ffff:203.0.113.9', '', '203.0.113.9'],
    ['10.0.0.2', '198.51.100.7', '198.51.100.7'],
    ['10.0.0.2', '1.2.3.4, 198.51.100.7', '198.51.100.7'], // the left part is the client's own say
    ['10.0.0.2', '198.51.100.7, 10.0.0.3', '198.51.100.7'], // a chain of trusted proxies
    ['::1', '2001:db8::5', '2001:db8::5'],
    ['10.0.0.2', '', '10.0.0.2'],
    ['10.0.0.2', '10.0.0.5, 10.0.0.3', '10.0.0.5'],
  ];
  for (const [peer, forwardedFor, expected] of cases) {
    it(`${peer} with X-Forwarded-For "${forwardedFor}" -> ${expected}`, () => {
      expect(clientAddress(context(peer, forwardedFor), trusted)).to.equal(expected);
    });
  }
});

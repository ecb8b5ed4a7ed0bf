import { expect } from 'chai';
import { tlsFailure } from '../../../storage/http.js';

/**
 * Errors as Node's TLS gives them (code and message), for the cases the TLS suite's
 * influxd does not produce: it serves one certificate, valid for its address.
 */
describe('tlsFailure: a TLS failure in words an operator can act on', () => {
  const cases: ReadonlyArray<{ what: string; error: unknown; words: string | undefined }> = [
    {
      what: 'a private CA',
      error: Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      words: "presented a TLS certificate from an issuer this process does not trust (unable to verify the first certificate): name the CA's certificate file in NODE_EXTRA_CA_CERTS",
    },
    {
      what: 'a self-signed certificate, with the advice Node 24 and later add to the reason',
      error: Object.assign(new Error('self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      words: "presented a TLS certificate from an issuer this process does not trust (self-signed certificate): name the CA's certificate file in NODE_EXTRA_CA_CERTS",
    },
    { what: 'an expired certificate', error: Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), words: 'presented a TLS certificate that is not valid (certificate has expired)' },
    {
      what: 'a certificate for another name',
      error: Object.assign(new Error("Hostname/IP does not match certificate's altnames: IP: 10.0.0.5 is not in the cert's list: 127.0.0.1"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }),
      words: "presented a TLS certificate that is not valid (Hostname/IP does not match certificate's altnames: IP: 10.0.0.5 is not in the cert's list: 127.0.0.1)",
    },
    {
      what: 'a handshake the server ends',
      error: Object.assign(new Error('write EPROTO 800CB0BE067F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 40'), { code: 'EPROTO' }),
      words: 'failed the TLS handshake (sslv3 alert handshake failure)',
    },
    { what: 'a refused connection', error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8086'), { code: 'ECONNREFUSED' }), words: undefined },
    { what: 'an error without a code', error: new Error('socket hang up'), words: undefined },
    { what: 'not an error', error: undefined, words: undefined },
  ];
  for (const { what, error, words } of cases) {
    it(`${what}: ${words === undefined ? 'not TLS' : 'named'}`, () => {
      expect(tlsFailure(error)).to.equal(words);
    });
  }
});

import { expect } from 'chai';
import { influxAnswerError } from '../../../storage/influx-errors.js';

/**
 * Answers whose shapes the integration suites cannot produce here: InfluxDB 2.x's
 * (no 2.x runs on this machine class), as its API documents them and its issue
 * tracker quotes them. InfluxDB 1.x's are covered against a real influxd.
 */
describe('influxAnswerError: an InfluxDB answer that is not a success, as a typed error', () => {
  const cases: ReadonlyArray<{ what: string; status: number; body: string; code: string; message: RegExp }> = [
    {
      what: '2.x, a Flux query on a bucket the token cannot see (missing, or without read rights)',
      status: 404,
      body: '{"code":"not found","message":"failed to initialize execute state: could not find bucket \\"mt\\""}',
      code: 'STORE_REFUSED',
      message: /^InfluxDB answered 404: failed to initialize execute state: could not find bucket "mt" \(to InfluxDB 2\.x, a bucket or organization that does not exist and one the token may not use look the same: check their names and INFLUX_TOKEN's rights\)$/,
    },
    { what: '2.x, a write to a bucket the token cannot see', status: 404, body: '{"code":"not found","message":"bucket \\"mt\\" not found"}', code: 'STORE_REFUSED', message: /^InfluxDB answered 404: bucket "mt" not found \(to InfluxDB 2\.x/ },
    { what: '2.x, a wrong token', status: 401, body: '{"code":"unauthorized","message":"unauthorized access"}', code: 'STORE_REFUSED', message: /^InfluxDB answered 401: unauthorized access \(check INFLUX_TOKEN/ },
    { what: '1.x, a write to a database not created yet (the write path creates it)', status: 404, body: '{"error":"database not found: \\"mt\\""}', code: 'STORE_REQUEST_FAILED', message: /^InfluxDB answered 404: database not found: "mt"$/ },
    { what: '2.x, a bad request', status: 400, body: '{"code":"invalid","message":"error parsing query"}', code: 'STORE_REQUEST_FAILED', message: /^InfluxDB answered 400: error parsing query$/ },
    { what: 'a 404 page of another service', status: 404, body: 'Not Found', code: 'STORE_UNAVAILABLE', message: /^INFLUX_URL answered 404, and not as InfluxDB does \("Not Found"\)/ },
    { what: 'JSON that is not an InfluxDB error', status: 404, body: '{"detail":"Not Found."}', code: 'STORE_UNAVAILABLE', message: /^INFLUX_URL answered 404, and not as InfluxDB does/ },
    { what: '2.x, too many requests', status: 429, body: '{"code":"too many requests","message":"rate limited"}', code: 'STORE_UNAVAILABLE', message: /^InfluxDB answered 429: rate limited$/ },
    { what: 'a proxy\'s 502 page', status: 502, body: '<html>Bad Gateway</html>', code: 'STORE_UNAVAILABLE', message: /^InfluxDB answered 502: <html>Bad Gateway<\/html>$/ },
  ];
  for (const { what, status, body, code, message } of cases) {
    it(what, () => {
      const error = influxAnswerError(status, body);
      expect(error.code).to.equal(code);
      expect(error.message).to.match(message);
    });
  }
});

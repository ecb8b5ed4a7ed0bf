import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body's bytes as received, before any decoding (a gzipped body stays gzipped). */
  readonly bytes: Buffer;
}

/**
 * One request with the path sent exactly as written (fetch would normalise it),
 * over a fresh connection.
 */
export function request(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString('utf8'), bytes });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Writes `raw` on a fresh connection and returns all the server answers until it
 * closes it. The connection is not half-closed: nginx takes that for a client gone.
 */
export async function rawExchange(port: number, raw: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write(raw);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}

/** The whole answer (rawExchange's) to one of MALFORMED_REQUESTS: the JSON 400. */
export const JSON_BAD_REQUEST = /^HTTP\/1\.1 400 [^]*\r\nContent-Type: application\/json\r\n[^]*\r\n\r\n\{"detail":"Bad Request\."\}$/;

/** Requests HTTP calls malformed, as they come on the wire: each is to get the JSON 400. */
export const MALFORMED_REQUESTS: ReadonlyArray<readonly [what: string, raw: string]> = [
  ['a malformed request line', 'GARBAGE\r\n\r\n'],
  ['a malformed header', 'GET /memory-logs/ HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n'],
  ['an HTTP/1.1 request without Host', 'GET /memory-logs/ HTTP/1.1\r\n\r\n'],
];

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { MemoryStore } from '../storage/types.js';
import type { Registry } from 'prom-client';
import { createRegistry } from '../metrics.js';
import { buildApp } from './app.js';

export interface RunningApi {
  readonly server: Server;
  readonly port: number;
  /**
   * Drains: new requests get 503, in-flight ones finish (up to the shutdown
   * timeout, then connections are cut), and the server stops listening. Resolves
   * once no handler runs any more, even one whose client has left.
   */
  close(): Promise<void>;
}

/**
 * Request line and headers together; larger requests get a JSON 431. Room for a
 * query with a few 4,301-digit values, which must get their documented 422.
 */
const MAX_HEADER_BYTES = 16 * 1024;

export interface ApiOptions {
  /** The registry /metrics serves; a new one (with process metrics) by default. */
  readonly registry?: Registry;
  /** The collection interval, for readiness and the chart (default one minute). */
  readonly collectIntervalMs?: number;
}

/** Listens with the app on the configured address; the store is the caller's to close. */
export async function startApi(
  config: Pick<Config, 'port' | 'bindAddress' | 'api'>,
  store: MemoryStore,
  logger: Logger,
  { registry = createRegistry(), collectIntervalMs = 60_000 }: ApiOptions = {},
): Promise<RunningApi> {
  let draining = false;
  const app = buildApp({ store, logger, api: config.api, collectIntervalMs, registry, draining: () => draining });
  const handle = app.callback();
  // Handlers are counted apart from connections: one whose client has left still
  // runs, and must be done before the caller closes the store under it.
  let handling = 0;
  let allHandled: (() => void) | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handling++;
    void handle(req, res).finally(() => {
      if (--handling === 0) allHandled?.();
    });
  };
  // Node's own check for a missing Host answers an empty 400, past the JSON frame (frame.ts checks instead).
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: 10_000, requestTimeout: 60_000, requireHostHeader: false }, onRequest);
  // An expectation other than 100-continue is ignored, as the original's server
  // (uvicorn) did, rather than answered with Node's empty 417.
  server.on('checkExpectation', onRequest);
  // CONNECT never reaches a request handler: Node would close its connection
  // unanswered. Its connection is handed over without Node's error listener.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    answerRaw(socket, '405 Method Not Allowed', '{"detail":"Method Not Allowed."}', 'Allow: GET, HEAD\r\n');
  });
  // A connection that carries nothing for this long, its answer begun or not, is
  // closed: a client that stopped reading a page held it, and its store reader and
  // buffers, for as long as it kept the connection open. Such a one is reset, as
  // nginx's reset_timedout_connection does: closed, it left its unsent answer to the
  // kernel (FIN-WAIT-1, 3.9 MB each, by hand) for as long as the client stayed.
  // (Idle connections between requests come here too, at Node's keep-alive timeout.)
  server.setTimeout(config.api.sendTimeoutMs);
  server.on('timeout', (socket: Socket) => (socket.writableLength > 0 ? socket.resetAndDestroy() : socket.destroy()));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
  server.listen({ port: config.port, host: config.bindAddress });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  logger.info({ address: config.bindAddress, port }, 'API listening');
  return {
    server,
    port,
    async close() {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const handled = handling === 0 ? Promise.resolve() : new Promise<void>((resolve) => (allHandled = resolve));
      server.closeIdleConnections();
      let timedOut!: () => void;
      const timeout = new Promise<void>((resolve) => (timedOut = resolve));
      const timer = setTimeout(() => {
        logger.warn({ timeoutMs: config.api.shutdownTimeoutMs }, 'requests still running at the shutdown timeout: closing their connections');
        server.closeAllConnections();
        timedOut();
      }, config.api.shutdownTimeoutMs);
      await closed;
      await Promise.race([handled, timeout]);
      clearTimeout(timer);
    },
  };
}

/** Malformed or oversized requests that never reach Koa still get a JSON answer. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, body] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['431 Request Header Fields Too Large', '{"detail":"Request Header Fields Too Large."}']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['408 Request Timeout', '{"detail":"Request Timeout."}']
        : ['400 Bad Request', '{"detail":"Bad Request."}'];
  answerRaw(socket, status, body);
}

/** A JSON answer written on the connection itself, which it then closes. */
function answerRaw(socket: Socket, status: string, body: string, headers = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\n${headers}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

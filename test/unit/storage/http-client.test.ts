import { expect } from 'chai';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient, NoFreeConnectionError } from '../../../storage/http.js';
import { failureOf } from '../../helpers/failure.js';
import { startSilentServer } from '../../helpers/silent-server.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * A server on 127.0.0.1 that answers the first request of each connection and keeps
 * it open, then closes it under the next one without an answer: as a server whose
 * idle timeout ends a kept connection just as a request goes out on it. With
 * `answers`, it answers only that many requests in all, and closes the rest.
 */
async function closingServer({ answers = Infinity } = {}): Promise<{ server: Server; url: URL; connections: () => number }> {
  let connections = 0;
  let answered = 0;
  const server = createServer((socket: Socket) => {
    connections++;
    let requests = 0;
    socket.on('data', () => {
      if (requests++ > 0 || answered >= answers) {
        socket.resetAndDestroy();
        return;
      }
      answered++;
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
    });
    socket.on('error', () => {
      // The client's side of a reset.
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, url: new URL(`http://127.0.0.1:${port}/query`), connections: () => connections };
}

describe('HttpClient: keep-alive connections', () => {
  let client: HttpClient;
  let server: Server | undefined;
  beforeEach(() => {
    client = new HttpClient();
  });
  afterEach(() => {
    client.close();
    server?.close();
  });

  it('sends a request again, on a new connection, when the server closed the kept one under it', async () => {
    const closing = await closingServer();
    server = closing.server;
    const request = { method: 'GET' as const, signal: AbortSignal.timeout(5_000) };
    expect(await client.send(closing.url, request)).to.deep.equal({ status: 200, body: 'ok' });
    expect(await client.send(closing.url, request)).to.deep.equal({ status: 200, body: 'ok' });
    expect(closing.connections()).to.equal(2);
  });

  it('sends it again only once, and not at all what failed on a new connection', async () => {
    const closing = await closingServer({ answers: 1 });
    server = closing.server;
    const request = { method: 'GET' as const, signal: AbortSignal.timeout(5_000) };
    expect(await client.send(closing.url, request)).to.deep.equal({ status: 200, body: 'ok' });
    expect(((await failureOf(client.send(closing.url, request))) as NodeJS.ErrnoException).code).to.equal('ECONNRESET');
    expect(closing.connections()).to.equal(2);
    // A new connection (the agent keeps none now) closed under its first request: not sent again.
    expect(((await failureOf(client.send(closing.url, request))) as NodeJS.ErrnoException).code).to.equal('ECONNRESET');
    expect(closing.connections()).to.equal(3);
  });

  // https: Node's own agent, which the client used for TLS, opens any number of connections.
  for (const scheme of ['http', 'https'] as const) {
    it(`gives up at its deadline a request that waits for a connection, every one in use (${scheme})`, async () => {
      const connections = 4;
      const bounded = new HttpClient(connections);
      const silent = await startSilentServer();
      try {
        // Never answered, nor its TLS handshake.
        const url = new URL(`${scheme}://127.0.0.1:${silent.port}/query`);
        // Every connection the client keeps, each held by a request the server never answers.
        const held = Array.from({ length: connections }, () => new AbortController());
        const holding = held.map(({ signal }) => failureOf(bounded.send(url, { method: 'GET', signal })));
        await waitFor('every connection taken', async () => (silent.connections === connections ? true : undefined));
        const waiting = new AbortController();
        const failure = failureOf(bounded.send(url, { method: 'GET', signal: waiting.signal }));
        // Given up once it waits in the agent's queue.
        await sleep(100);
        expect(silent.connections, 'no connection past the bound').to.equal(connections);
        waiting.abort(new Error('deadline'));
        // A bound on a hang, not a speed: it gives up at once, or waits for a connection for good.
        const outcome = await Promise.race([failure, sleep(5_000).then(() => 'still waiting')]);
        expect(outcome).to.be.instanceOf(NoFreeConnectionError).with.nested.property('cause.message', 'deadline');
        expect((outcome as Error).message).to.match(/^none of the 4 connections to it came free/);
        for (const controller of held) controller.abort();
        await Promise.all(holding);
      } finally {
        bounded.close();
        await silent.close();
      }
    });
  }

  it('closes a connection idle for 4 s rather than keep it until a server or a proxy between forgets it', async function () {
    this.timeout(15_000);
    let connections = 0;
    const keeping = createHttpServer((_request, response) => response.end('ok'));
    keeping.keepAliveTimeout = 60_000;
    keeping.on('connection', () => connections++);
    server = keeping.listen(0, '127.0.0.1');
    await once(keeping, 'listening');
    const url = new URL(`http://127.0.0.1:${(keeping.address() as AddressInfo).port}/query`);
    const request = { method: 'GET' as const, signal: AbortSignal.timeout(5_000) };
    await client.send(url, request);
    await client.send(url, { ...request, signal: AbortSignal.timeout(5_000) });
    expect(connections, 'kept while in use').to.equal(1);
    await sleep(5_000);
    await client.send(url, { ...request, signal: AbortSignal.timeout(5_000) });
    expect(connections).to.equal(2);
  });
});

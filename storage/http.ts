import { Agent, request as httpRequest, type AgentOptions, type IncomingMessage } from 'node:http';

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal: AbortSignal;
}

/**
 * How long an idle connection is kept for the next request: less than the idle
 * timeouts of servers and of what may stand between (InfluxDB 2.x's 3 minutes, a
 * Swarm service address's 15, a proxy's minute or less), past which a connection is
 * closed, or silently forgotten, under a request about to use it. Node's own agent
 * for https keeps 5 s; undici keeps 4 s, for the same reason.
 */
const IDLE_CONNECTION_MS = 4_000;

/** Connections open at once to the server, by default; further requests wait for one. */
const CONNECTIONS = 32;

/** A request given up while it waited for a connection: every one was in use. */
export class NoFreeConnectionError extends Error {
  constructor(connections: number, reason: unknown) {
    super(`none of the ${connections} connections to it came free (as many requests were still being answered)`, { cause: reason });
  }
}

/**
 * A small HTTP client on node:http with keep-alive. Not fetch: each collector run
 * is a new worker thread, and loading fetch's implementation there cost about
 * 240 ms of CPU per run against about 35 ms for node:http when profiled.
 */
export class HttpClient {
  private readonly agentOptions: AgentOptions;
  private readonly agent: Agent;
  /**
   * For an https:// server, its own agent with the same bounds: Node's global one
   * opens any number of connections and keeps them idle longer. Made at the first
   * such request, as TLS is loaded only for an https:// store.
   */
  private tls: Promise<Transport> | undefined;

  /** `connections`: how many are open at once, at most. */
  constructor(private readonly connections = CONNECTIONS) {
    this.agentOptions = { keepAlive: true, maxSockets: connections, timeout: IDLE_CONNECTION_MS };
    this.agent = new Agent(this.agentOptions);
  }

  /**
   * Sends a request and resolves with the response as soon as its head is in: the
   * body is the caller's to read. A kept connection that the server closed as the
   * request went out (a reset on a reused socket, as Node's documentation of
   * `reusedSocket` describes) is not the server's failure: the request is sent once
   * more, on a new connection. Both stores' requests may be repeated: a query reads,
   * and writing a point again overwrites it with the same values.
   */
  async open(url: URL, request: HttpRequest): Promise<IncomingMessage> {
    try {
      return await this.openOnce(url, request);
    } catch (error) {
      if (!(error instanceof StaleConnectionError)) throw error;
      return this.openOnce(url, request, { fresh: true });
    }
  }

  private async openOnce(url: URL, { method, headers = {}, body, signal }: HttpRequest, { fresh = false } = {}): Promise<IncomingMessage> {
    const { send, agent } = url.protocol === 'https:' ? await (this.tls ??= tlsTransport(this.agentOptions)) : { send: httpRequest, agent: this.agent };
    // After the wait for TLS's module, too: a request handed an aborted signal is never sent.
    signal.throwIfAborted();
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const allHeaders = payload === undefined ? headers : { ...headers, 'Content-Length': String(payload.length) };
    return new Promise((resolve, reject) => {
      // `fresh`: a connection of its own, closed after the answer, rather than the next kept one, which may be as stale.
      const request = send(url, { method, agent: fresh ? false : agent, signal, headers: allHeaders }, resolve);
      request.on('error', (error: NodeJS.ErrnoException) => {
        reject(request.reusedSocket && error.code === 'ECONNRESET' ? new StaleConnectionError(error) : error);
      });
      // Node ends an aborted request only once it has a connection: one waiting for
      // the agent's (all in use) ignored its deadline for as long as none came free.
      const abandon = (): void => {
        reject(request.socket === null ? new NoFreeConnectionError(this.connections, signal.reason) : signal.reason);
        request.destroy();
      };
      signal.addEventListener('abort', abandon, { once: true });
      request.once('close', () => signal.removeEventListener('abort', abandon));
      request.end(payload);
    });
  }

  /** Sends a request and reads the whole answer. */
  async send(url: URL, request: HttpRequest): Promise<HttpResponse> {
    const response = await this.open(url, request);
    return { status: response.statusCode ?? 0, body: await bodyText(response) };
  }

  close(): void {
    this.agent.destroy();
    void this.tls?.then(({ agent }) => agent.destroy());
  }
}

/** How requests go out: the module's `request`, and the agent that keeps their connections. */
interface Transport {
  readonly send: typeof httpRequest;
  readonly agent: Agent;
}

async function tlsTransport(options: AgentOptions): Promise<Transport> {
  const https = await import('node:https');
  return { send: https.request, agent: new https.Agent(options) };
}

/** A kept connection reset under a request: the server had closed it. */
class StaleConnectionError extends Error {
  constructor(reset: Error) {
    super(reset.message, { cause: reset });
  }
}

/** An answer's whole body, as text. */
export async function bodyText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The certificate checks that fail because this process does not know the issuer:
 * a self-signed certificate, or one from a private CA.
 */
const UNTRUSTED_ISSUER_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
]);

/**
 * What went wrong with TLS, when that is why a request got no answer, in words an
 * operator can act on; undefined for anything else. Each of these lasts until the
 * configuration changes, where "unreachable" would suggest waiting.
 */
export function tlsFailure(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  if (UNTRUSTED_ISSUER_CODES.has(code)) {
    // OpenSSL's reason alone: Node 24 and later (not 20 or 22) add their own advice
    // after a semicolon (`--use-system-ca`), which would give the operator two remedies.
    const reason = message.split(';')[0];
    return `presented a TLS certificate from an issuer this process does not trust (${reason}): name the CA's certificate file in NODE_EXTRA_CA_CERTS`;
  }
  if (code.startsWith('CERT_') || code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `presented a TLS certificate that is not valid (${message})`;
  // OpenSSL's reason, without the rest of its line (addresses, source files).
  const reason = code === 'EPROTO' ? /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] : undefined;
  if (reason === 'wrong version number') return "does not answer TLS (wrong version number): check INFLUX_URL's scheme, http:// or https://";
  return reason === undefined ? undefined : `failed the TLS handshake (${reason})`;
}

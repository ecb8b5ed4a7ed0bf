import { createServer, request as forward, type Server } from 'node:http';

/**
 * A reverse proxy to a real server on 127.0.0.1: each request goes on at the path
 * `pathFor` makes of its URL, or is answered 404 here when that is undefined.
 */
export async function startHttpProxy(targetPort: number, pathFor: (url: string) => string | undefined): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = pathFor(req.url ?? '/');
    if (path === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not proxied: ${req.url}`);
      return;
    }
    const upstream = forward({ host: '127.0.0.1', port: targetPort, method: req.method, path, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * What a proxy that serves a server under a path prefix sends on, stripping it as
 * Traefik's StripPrefix does: `/memory/x` goes on as `/x`, and `/memory` as `/`.
 * Anything outside the prefix is not proxied, so that an address that escaped the
 * prefix shows up as a failed request.
 */
export function stripPrefix(prefix: string): (url: string) => string | undefined {
  return (url) => {
    if (url !== prefix && !url.startsWith(`${prefix}/`) && !url.startsWith(`${prefix}?`)) return undefined;
    const rest = url.slice(prefix.length);
    return rest.startsWith('/') ? rest : `/${rest}`;
  };
}

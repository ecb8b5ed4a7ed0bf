import { createServer, request as forward, type Server } from 'node:http';

/**
 * A reverse proxy that serves a real server under a path prefix and strips it on the
 * way in, as Traefik's StripPrefix does: `/memory/x` reaches the server as `/x`, and
 * `/memory` as `/`. Anything outside the prefix is 404 here, so that an address that
 * escaped the prefix shows up as a failed request.
 */
export async function startPrefixProxy(targetPort: number, prefix: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url !== prefix && !url.startsWith(`${prefix}/`) && !url.startsWith(`${prefix}?`)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`outside ${prefix}`);
      return;
    }
    const rest = url.slice(prefix.length);
    const upstream = forward({ host: '127.0.0.1', port: targetPort, method: req.method, path: rest.startsWith('/') ? rest : `/${rest}`, headers: req.headers }, (answer) => {
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

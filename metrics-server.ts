import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './log.js';

/** The collector's own `GET /metrics` on a small port (`COLLECTOR_METRICS_PORT`), when it runs alone. */
export async function startMetricsServer(registry: Registry, host: string, port: number, logger: Logger): Promise<{ close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"detail":"Not Found."}');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"detail":"Internal server error."}'),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  logger.info({ port }, 'collector metrics on /metrics');
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

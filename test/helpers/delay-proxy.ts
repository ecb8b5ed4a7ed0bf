import { createConnection, createServer, type Server } from 'node:net';

/**
 * A TCP proxy to a real server that holds every answer back by `delayMs`: a slow
 * network in front of a real store.
 */
export async function startDelayProxy(targetPort: number, delayMs: number): Promise<{ port: number; close(): void }> {
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => setTimeout(() => client.writable && client.write(chunk), delayMs));
    upstream.on('end', () => setTimeout(() => client.end(), delayMs));
    const destroy = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', destroy);
    upstream.on('error', destroy);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () => server.close(),
  };
}

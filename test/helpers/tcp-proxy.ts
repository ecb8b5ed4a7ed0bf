import { createConnection, createServer, type Server } from 'node:net';

export interface TcpProxyOptions {
  /** Every piece of an answer is held back this long: a slow network. */
  readonly delayMs?: number;
  /**
   * Once this many bytes of answers went through a connection, the server dies
   * (`closing` it) or hangs (`stalling`: nothing more, the connection left open).
   */
  readonly breakAfter?: { readonly bytes: number; readonly by: 'closing' | 'stalling' };
}

/** A TCP proxy to a real server on 127.0.0.1, in front of a real store. */
export async function startTcpProxy(targetPort: number, { delayMs = 0, breakAfter }: TcpProxyOptions): Promise<{ port: number; close(): void }> {
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    let room = breakAfter?.bytes ?? Infinity;
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) =>
      setTimeout(() => {
        if (!client.writable || room <= 0) return;
        client.write(chunk.subarray(0, room));
        room -= chunk.length;
        if (room > 0) return;
        upstream.pause();
        if (breakAfter?.by === 'closing') {
          client.end();
          upstream.destroy();
        }
      }, delayMs),
    );
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

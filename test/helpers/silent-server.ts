import { createServer, type AddressInfo, type Socket } from 'node:net';

/** A listener on 127.0.0.1 that takes connections and never answers: a store, an API or an upstream that hangs. */
export interface SilentServer {
  readonly port: number;
  readonly url: string;
  /** Connections taken so far. */
  readonly connections: number;
  /** Drops the connections it holds (a waiting client sees them end) and stops listening. */
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const open = new Set<Socket>();
  let taken = 0;
  const server = createServer((socket) => {
    taken++;
    open.add(socket);
    // A client giving up may reset the connection: nothing here to tell.
    socket.on('error', () => undefined);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return taken;
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

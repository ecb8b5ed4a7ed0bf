import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { MemoryStore } from '../storage/types.js';
import { buildApp } from './app.js';

export interface RunningApi {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting connections, lets in-flight requests finish, then resolves. */
  close(): Promise<void>;
}

/** Listens with the app on the configured address; the store is the caller's to close. */
export async function startApi(config: Pick<Config, 'port' | 'bindAddress'>, store: MemoryStore, logger: Logger): Promise<RunningApi> {
  const app = buildApp({ store, logger });
  const server = app.listen({ port: config.port, host: config.bindAddress });
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  logger.info({ address: config.bindAddress, port }, 'API listening');
  return {
    server,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    },
  };
}

import type { ApiConfig, Config } from '../../config.js';

/** Where and how a test API listens: an OS-chosen port on loopback, no auth or limit unless given. */
export function testListen(api: Partial<ApiConfig> = {}): Pick<Config, 'port' | 'bindAddress' | 'api'> {
  return {
    port: 0,
    bindAddress: '127.0.0.1',
    api: { basicAuth: undefined, rateLimit: undefined, trustedProxies: [], shutdownTimeoutMs: 5_000, sendTimeoutMs: 60_000, ...api },
  };
}

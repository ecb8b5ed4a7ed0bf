import { request } from 'node:http';
import { stat } from 'node:fs/promises';
import type { Config } from './config.js';

/**
 * The container healthcheck (`memory-tracker healthcheck [api|collector]`):
 * - api: `GET /healthz` on the local port answers 200 within two seconds;
 * - collector: a run took its point (stored, spooled or held) within two intervals
 *   plus the run timeout. A run that failed to read meminfo took none: it does not count.
 * Resolves to a process exit code: 0 healthy, 1 not.
 */
export async function checkHealth(target: 'api' | 'collector', config: Config): Promise<{ healthy: boolean; reason: string }> {
  if (target === 'collector') {
    const maxAgeMs = 2 * config.collector.intervalMs + config.collector.timeoutMs;
    try {
      const ageMs = Date.now() - (await stat(config.collector.heartbeatPath)).mtimeMs;
      return ageMs <= maxAgeMs
        ? { healthy: true, reason: `last point taken ${Math.round(ageMs / 1_000)} s ago` }
        : { healthy: false, reason: `no point taken for ${Math.round(ageMs / 1_000)} s (limit ${maxAgeMs / 1_000} s): the collector is stopped, or its runs end without a point (its log says why)` };
    } catch {
      return { healthy: false, reason: `no heartbeat file at ${config.collector.heartbeatPath} yet: no run has taken its point` };
    }
  }
  return new Promise((resolve) => {
    const req = request({ host: localAddressOf(config.bindAddress), port: config.port, path: '/healthz', timeout: 2_000 }, (res) => {
      res.resume();
      resolve({ healthy: res.statusCode === 200, reason: `GET /healthz answered ${res.statusCode}` });
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', (error) => resolve({ healthy: false, reason: `GET /healthz failed: ${error.message}` }));
    req.end();
  });
}

/** Where the local API answers: its own address, or loopback when it listens on all of them. */
function localAddressOf(bindAddress: string): string {
  if (bindAddress === '0.0.0.0') return '127.0.0.1';
  if (bindAddress === '::') return '::1';
  return bindAddress;
}

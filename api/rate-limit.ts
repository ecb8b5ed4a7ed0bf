import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Context, Middleware } from 'koa';
import type { RateLimitConfig } from '../config.js';
import { RateLimitedError } from './http-errors.js';
import { routePath } from './route-path.js';
import { TokenBuckets } from './token-bucket.js';

/** Limits each client (by address) with a token bucket; open paths are never limited. */
export function rateLimit(config: RateLimitConfig, trustedProxies: readonly string[], openPaths: ReadonlySet<string>): Middleware {
  const buckets = new TokenBuckets(config.average, config.periodMs, config.burst);
  const trusted = proxyList(trustedProxies);
  return async (ctx, next) => {
    if (openPaths.has(routePath(ctx))) return next();
    const waitMs = buckets.take(clientAddress(ctx, trusted), Date.now());
    if (waitMs > 0) throw new RateLimitedError(Math.ceil(waitMs / 1_000));
    return next();
  };
}

/**
 * The client's address: the connection's peer, unless that peer is a trusted
 * proxy; then the nearest address in X-Forwarded-For that is not a trusted proxy
 * (addresses further left could be made up by the client).
 */
export function clientAddress(ctx: Pick<Context, 'get'> & { req: { socket: { remoteAddress?: string | undefined } } }, trusted: BlockList): string {
  let address = normalize(ctx.req.socket.remoteAddress ?? '');
  if (!isTrusted(trusted, address)) return address;
  const forwarded = ctx.get('X-Forwarded-For').split(',').map((one) => normalize(one.trim())).filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    address = forwarded[i]!;
    if (!isTrusted(trusted, address)) return address;
  }
  return address;
}

/** A BlockList of addresses and CIDR ranges (`10.0.0.0/8`, `::1`). Validated by config. */
export function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const type = isIPv6(address!) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(prefix), type);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  if (isIPv4(address)) return list.check(address, 'ipv4');
  if (isIPv6(address)) return list.check(address, 'ipv6');
  return false;
}

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) is 10.0.0.1. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

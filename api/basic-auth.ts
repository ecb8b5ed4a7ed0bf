import { createHmac, randomBytes } from 'node:crypto';
import type { Middleware } from 'koa';
import type { BasicAuthConfig } from '../config.js';
import { UnauthorizedError } from './http-errors.js';
import { verifyPassword } from './htpasswd.js';
import { routePath } from './route-path.js';

/** Credentials that passed are remembered (as keyed hashes) so bcrypt runs once, not per request. */
const REMEMBERED_CREDENTIALS = 1_024;
const BASIC = /^Basic ([A-Za-z0-9+/]+={0,2})$/i;

/**
 * HTTP basic auth with Traefik's `user:hash` entries. Every failure is the same
 * 401: nothing tells a wrong user from a wrong password, and an unknown user costs
 * a hash verification like a known one.
 */
export function basicAuth(config: BasicAuthConfig, openPaths: ReadonlySet<string>): Middleware {
  const users = new Map(config.users.map(({ user, hash }) => [user, hash]));
  const decoy = config.users[0]!.hash;
  const key = randomBytes(32);
  const remembered = new Set<string>();

  async function accepts(user: string, password: string): Promise<boolean> {
    const digest = createHmac('sha256', key).update(user).update('\0').update(password).digest('base64');
    if (remembered.has(digest)) return true;
    const hash = users.get(user);
    const matches = await verifyPassword(password, hash ?? decoy);
    if (!matches || hash === undefined) return false;
    if (remembered.size >= REMEMBERED_CREDENTIALS) remembered.delete(remembered.values().next().value!);
    remembered.add(digest);
    return true;
  }

  return async (ctx, next) => {
    if (openPaths.has(routePath(ctx))) return next();
    const credentials = parseBasic(ctx.get('Authorization'));
    if (credentials === undefined || !(await accepts(credentials.user, credentials.password))) {
      throw new UnauthorizedError(config.realm);
    }
    return next();
  };
}

function parseBasic(header: string): { user: string; password: string } | undefined {
  const encoded = BASIC.exec(header)?.[1];
  if (encoded === undefined || encoded.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

import aprMd5 from 'apache-md5';
import bcrypt from 'bcryptjs';
import { createHash, timingSafeEqual } from 'node:crypto';

/** The hash formats Traefik's basicauth (and Apache's htpasswd) accept. */
export type HashFormat = 'apr1' | 'bcrypt' | 'sha1';

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}$/;
const SHA1 = /^\{SHA\}[A-Za-z0-9+/]{27}=$/;

/** The format of an htpasswd hash, or undefined when it is none of those. */
export function hashFormat(hash: string): HashFormat | undefined {
  if (APR1.test(hash)) return 'apr1';
  if (BCRYPT.test(hash)) return 'bcrypt';
  if (SHA1.test(hash)) return 'sha1';
  return undefined;
}

/** Whether `password` matches an htpasswd `hash`, compared in constant time. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  switch (hashFormat(hash)) {
    case 'apr1':
      return sameText(aprMd5(password, hash), hash);
    case 'bcrypt':
      // bcryptjs knows $2a$ and $2b$; htpasswd's $2y$ is the same algorithm.
      return bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));
    case 'sha1':
      return sameText(`{SHA}${createHash('sha1').update(password, 'utf8').digest('base64')}`, hash);
    default:
      return false;
  }
}

function sameText(a: string, b: string): boolean {
  const [left, right] = [Buffer.from(a), Buffer.from(b)];
  return left.length === right.length && timingSafeEqual(left, right);
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * For the enclosing describe block: a temporary directory, made before its tests and
 * removed after them, and a function giving a new path inside it for each case.
 */
export function caseDirs(prefix: string): () => string {
  let dir = '';
  let cases = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => rm(dir, { recursive: true, force: true }));
  return () => join(dir, `case-${cases++}`);
}

import type { Stats } from 'node:fs';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';

/** Another collector kept the spool for as long as this run could wait. */
export class SpoolLockedError extends Error {
  readonly code = 'SPOOL_LOCKED';
}

/** How often a waiting run looks at the lock again. */
const RETRY_MS = 50;

/** Gives the spool back; harmless when the lock was taken over meanwhile. */
export type ReleaseSpool = () => Promise<void>;

/**
 * One run at a time on a spool directory, across threads, processes and containers
 * that share it: without this, a run rewriting the spool after a replay drops the
 * point another run appended meanwhile.
 *
 * The lock is a file created only if absent (O_EXCL). Node has no flock, and a pid
 * tells nothing across containers (a collector is pid 1 in each), so a lock is judged
 * by its age instead: no run lives longer than COLLECT_TIMEOUT (Bree ends it), so a
 * lock older than `staleMs` was left by a run that was ended or killed, and is taken
 * over. Waits while the lock is fresh, until `signal` aborts.
 */
export async function lockSpool(dir: string, staleMs: number, signal: AbortSignal): Promise<ReleaseSpool> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'points.lock');
  const owner = `${hostname()} pid ${process.pid} ${uniqueSuffix()}\n`;
  for (;;) {
    try {
      await writeFile(path, owner, { flag: 'wx' });
      return () => release(path, owner);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await removeIfStale(path, staleMs)) continue;
    if (signal.aborted) {
      const holder = (await readFile(path, 'utf8').catch(() => 'gone by now')).trim();
      throw new SpoolLockedError(`the spool in ${dir} stayed in use by another collector (${holder}): is SPOOL_DIR shared by two collectors?`);
    }
    await sleep(RETRY_MS, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * Removes a lock older than `staleMs`; true when the lock is gone (removed here or
 * by its holder). Two runs may find the same lock stale at once, and the slower one
 * would then remove the fresh lock the faster one just made: so the lock is renamed
 * aside first and looked at again there, and a fresh one is linked back (link, not
 * rename, so that it never replaces a lock made meanwhile).
 */
async function removeIfStale(path: string, staleMs: number): Promise<boolean> {
  const aside = `${path}.${uniqueSuffix()}.stale`;
  try {
    if (!isStale(await stat(path), staleMs)) return false;
    await rename(path, aside);
    if (!isStale(await stat(aside), staleMs)) await link(aside, path).catch(() => undefined);
    await unlink(aside);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

function isStale({ mtimeMs }: Stats, staleMs: number): boolean {
  return Date.now() - mtimeMs > staleMs;
}

/**
 * Tells this run's lock from any other's. Not node:crypto: loading it costs each
 * run's fresh thread a few milliseconds of CPU, and nothing here needs to be secret.
 */
function uniqueSuffix(): string {
  return `${threadId}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Deletes the lock if it is still this run's (it is not once another run took it over). */
async function release(path: string, owner: string): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current === owner) await unlink(path).catch(() => undefined);
}

import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** Another collector kept the spool for as long as this run could wait. */
export class SpoolLockedError extends Error {
  readonly code = 'SPOOL_LOCKED';
}

/** How often a waiting run looks at the lock again. */
const RETRY_MS = 50;

/** Gives the spool back; harmless when the lock was taken over meanwhile. */
export type ReleaseSpool = () => void;

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
 *
 * Synchronous file calls: a run is a thread of its own, so they block nothing else,
 * and they cost a fresh thread a fraction of what the promise API does on first use.
 */
export async function lockSpool(dir: string, holder: string, staleMs: number, signal: AbortSignal): Promise<ReleaseSpool> {
  const path = join(dir, 'points.lock');
  const owner = `${holder}, pid ${process.pid} ${uniqueSuffix()}\n`;
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return () => undefined; // a spool that cannot be made: see `create`
  }
  for (;;) {
    const outcome = create(path, owner);
    if (outcome === 'made') return () => release(path, owner);
    if (outcome === 'unusable') return () => undefined;
    if (removeIfStale(path, staleMs)) continue;
    if (signal.aborted) {
      const current = readOwner(path)?.trim() ?? 'gone by now';
      throw new SpoolLockedError(`the spool in ${dir} stayed in use by another collector (${current}): is SPOOL_DIR shared by two collectors?`);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

/**
 * Makes the lock file, or says why not: 'held' when another's exists; 'unusable'
 * when the directory cannot take it (read-only, or a full disk, where the file can be
 * made but not written: it is removed again). Such a spool cannot take points
 * either, so no other run can be using it: the run goes on without the lock, and a
 * working store still gets its point.
 */
function create(path: string, owner: string): 'made' | 'held' | 'unusable' {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EEXIST' ? 'held' : 'unusable';
  }
  try {
    writeSync(fd, owner);
    return 'made';
  } catch {
    rmSync(path, { force: true });
    return 'unusable';
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes a lock older than `staleMs`; true when the lock is gone (removed here or
 * by its holder). Two runs may find the same lock stale at once, and the slower one
 * would then remove the fresh lock the faster one just made: so the lock is renamed
 * aside first and looked at again there, and a fresh one is linked back (link, not
 * rename, so that it never replaces a lock made meanwhile).
 */
function removeIfStale(path: string, staleMs: number): boolean {
  try {
    if (!isStale(statSync(path), staleMs)) return false;
    const aside = `${path}.${uniqueSuffix()}.stale`;
    renameSync(path, aside);
    if (!isStale(statSync(aside), staleMs)) {
      try {
        linkSync(aside, path);
      } catch {
        // A new lock was made meanwhile: its maker holds the spool.
      }
    }
    unlinkSync(aside);
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

function readOwner(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Deletes the lock if it is still this run's (it is not once another run took it over). */
function release(path: string, owner: string): void {
  if (readOwner(path) !== owner) return;
  try {
    unlinkSync(path);
  } catch {
    // Gone already: nothing to give back.
  }
}

import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { requireTool } from './tools.js';

/**
 * A wall clock for a child process that the test sets, through libfaketime (Debian's
 * `faketime`): the process reads the real time plus the offset last written to
 * `file`, read again at every call. Its monotonic clock, which Node's timers run on,
 * is left alone, as a real clock being set leaves it.
 */
export interface FakedClock {
  /** The variables that give a child process this clock. */
  readonly env: Record<string, string>;
  /** Moves the clock to the real time plus `offset`, in libfaketime's words: `+0`, `-60s`. */
  set(offset: string): Promise<void>;
}

export async function fakedClock(context: Mocha.Context, file: string): Promise<FakedClock> {
  requireTool(context, 'faketime', ['--version'], 'REQUIRE_FAKETIME', 'Debian: apt-get install faketime');
  // The library's path as the wrapper gives it to programs it runs (`/usr/$LIB/…`,
  // which the dynamic loader expands for the machine's architecture).
  const preload = spawnSync('faketime', ['-f', '+0', 'printenv', 'LD_PRELOAD'], { encoding: 'utf8' }).stdout.trim();
  if (preload === '') throw new Error('faketime did not name its library');
  const set = (offset: string): Promise<void> => writeFile(file, `${offset}\n`);
  await set('+0');
  return { env: { LD_PRELOAD: preload, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1' }, set };
}

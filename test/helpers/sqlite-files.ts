import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Makes `path` a file that SQLite cannot open: text, not a database (SQLITE_NOTADB
 * at the first statement). It fails where a locked, unreadable or full-disk file
 * fails, when the store opens the file, and it is removed to let the store open it.
 */
export async function writeNotADatabase(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, 'not a database\n'.repeat(50));
}

import type Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ImportFileError } from '../errors.js';
import { connectSqlite } from '../storage/sqlite.js';
import { pointFrom, type LineResult } from './parse.js';
import type { ImportInput } from './run.js';

/**
 * The tables history is read from, in this order: the original service's
 * `memory_log` (`timestamp,total,free,used`), and the embedded store's own `memory`
 * (`host,time,total,free,used`), to carry its history to InfluxDB.
 */
const TABLES = ['memory_log', 'memory'] as const;
const TIME_COLUMNS = ['timestamp', 'time'] as const;
const VALUE_COLUMNS = ['total', 'free', 'used'] as const;

/**
 * What SQLite answers for a database in WAL mode (the embedded store's) whose
 * directory it may not write: reading one needs its `-shm` file, made beside it.
 */
const NEEDS_WRITABLE_DIRECTORY = /^SQLITE_READONLY_(DIRECTORY|CANTINIT)$/;

/**
 * The rows of a SQLite file's history table, read-only, a result per row in the
 * table's own order. A WAL-mode file in a directory that cannot be written (a
 * read-only mount) is read from a copy in the temporary directory. Throws
 * ImportFileError for a file that cannot be read as a database, or that has no
 * such table.
 */
export function sqliteInput(path: string, defaultHost: string): ImportInput {
  let copyDir: string | undefined;
  let opened: { db: Database.Database; select: string };
  try {
    opened = openHistory(path, path);
  } catch (error) {
    const code = (error as { cause?: { code?: unknown } }).cause?.code;
    if (!(typeof code === 'string' && NEEDS_WRITABLE_DIRECTORY.test(code))) throw error;
    copyDir = mkdtempSync(join(tmpdir(), 'mt-import-'));
    try {
      const copy = join(copyDir, basename(path));
      copyFileSync(path, copy);
      // Points committed but not yet moved into the file itself are in its -wal.
      if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
      opened = openHistory(copy, path);
    } catch (copyError) {
      rmSync(copyDir, { recursive: true, force: true });
      throw copyError instanceof ImportFileError ? copyError : new ImportFileError(`cannot copy ${path} to read it: ${(copyError as Error).message}`, { cause: copyError });
    }
  }
  const { db, select } = opened;
  async function* rows(): AsyncGenerator<LineResult> {
    for (const row of db.prepare<[], Record<string, unknown>>(select).iterate()) yield pointFrom(row, defaultHost);
  }
  const results = rows();
  return {
    name: path,
    unit: 'row',
    results,
    async close() {
      // The statement first: a connection will not close under one still reading.
      await results.return(undefined);
      db.close();
      if (copyDir !== undefined) rmSync(copyDir, { recursive: true, force: true });
    },
  };
}

/** The database at `path` (named `name` in messages), opened read-only, and the SELECT of its history. */
function openHistory(path: string, name: string): { db: Database.Database; select: string } {
  let db: Database.Database;
  try {
    db = connectSqlite(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new ImportFileError(`cannot open ${name} as a SQLite database: ${(error as Error).message}`, { cause: error });
  }
  try {
    return { db, select: historySelect(db, name) };
  } catch (error) {
    db.close();
    if (error instanceof ImportFileError) throw error;
    throw new ImportFileError(`cannot read ${name} as a SQLite database: ${(error as Error).message}`, { cause: error });
  }
}

/** The SELECT of the first history table the file has, its columns named as the import's other formats name them. */
function historySelect(db: Database.Database, path: string): string {
  // Names as SQLite compares them: without regard to case.
  const tables = db.prepare<[], string>("SELECT lower(name) FROM sqlite_schema WHERE type = 'table' ORDER BY 1").pluck().all();
  for (const table of TABLES) {
    if (!tables.includes(table)) continue;
    const columns = db.prepare<[], string>(`SELECT lower(name) FROM pragma_table_info('${table}')`).pluck().all();
    const time = TIME_COLUMNS.find((column) => columns.includes(column));
    if (time === undefined || !VALUE_COLUMNS.every((column) => columns.includes(column))) continue;
    const host = columns.includes('host') ? ', "host"' : '';
    return `SELECT "${time}" AS "timestamp", "total", "free", "used"${host} FROM "${table}"`;
  }
  throw new ImportFileError(
    `${path} is a SQLite database without a history table: neither memory_log (timestamp,total,free,used[,host]) nor memory (host,time,total,free,used) (tables: ${tables.join(', ') || 'none'})`,
  );
}

import Database from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BoundedMap } from '../bounded-map.js';
import { NoFreeSlotError, Slots } from '../slots.js';
import { StoreRequestError, StoreUnavailableError } from '../errors.js';
import type { SqliteStoreConfig } from '../config.js';
import { bucketAt } from './counts.js';
import { assertValidPoints } from './point.js';
import { ALL_STORED, pageKey, STREAM_ABOVE_ROWS, STREAMED_PAGES, type HostSummary, type JsonBody, type ListQuery, type MemoryPoint, type MemoryStore, type WriteReceipt } from './types.js';

/**
 * The driver, and where its addon is. A collector run is a fresh thread that loads
 * everything anew, so runs load this file from the job's bundle (`npm run
 * build:job`), the driver's JavaScript included: loaded as its own 14 CommonJS
 * files, it took about a tenth of a run's instructions (counted under callgrind).
 * The addon is handed to the driver by its path: the driver's own search (the
 * `bindings` package) tries path after path by catching failed requires, and from a
 * bundle it would look in the wrong package. Where the addon is not at the path
 * that both its source build and its prebuilt download use, the driver is loaded
 * from its own files and searches as usual.
 */
const require = createRequire(import.meta.url);
const ADDON = 'better-sqlite3/build/Release/better_sqlite3.node';
/**
 * In this package's own `node_modules` first: this file and the job's bundle both
 * sit two folders below the package (`dist/storage/`, `dist/job/`). One `stat`,
 * where resolving the package took a fresh thread about 1.5 ms of CPU at every run.
 */
export const OWN_ADDON = fileURLToPath(new URL(`../../node_modules/${ADDON}`, import.meta.url));
export const ADDON_PATH = ((): string | undefined => {
  if (existsSync(OWN_ADDON)) return OWN_ADDON;
  try {
    return require.resolve(ADDON);
  } catch {
    return undefined;
  }
})();

/** A connection to the file at `path`, through the driver as this file loads it: for whoever else reads a SQLite file (the import). */
export function connectSqlite(path: string, options: Omit<Database.Options, 'nativeBinding'>): Database.Database {
  if (ADDON_PATH === undefined) return new (require('better-sqlite3') as typeof Database)(path, options);
  return new Database(path, { ...options, nativeBinding: ADDON_PATH });
}

const SCHEMA_VERSION = 2;
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS memory (
    host  TEXT    NOT NULL,
    time  INTEGER NOT NULL,
    total INTEGER NOT NULL,
    free  INTEGER NOT NULL,
    used  INTEGER NOT NULL,
    PRIMARY KEY (host, time)
  ) WITHOUT ROWID;
  -- finds the newest point of any host without a scan
  CREATE INDEX IF NOT EXISTS memory_by_time ON memory (time);
  -- points per host and UTC day, kept exact by the triggers: a deep skip counts
  -- days instead of stepping over every point (OFFSET is linear in SQLite)
  CREATE TABLE IF NOT EXISTS memory_days (
    host   TEXT    NOT NULL,
    day    INTEGER NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (host, day)
  ) WITHOUT ROWID;
  CREATE TRIGGER IF NOT EXISTS memory_days_insert AFTER INSERT ON memory BEGIN
    INSERT INTO memory_days (host, day, points) VALUES (new.host, new.time / 86400, 1)
    ON CONFLICT (host, day) DO UPDATE SET points = points + 1;
  END;
  CREATE TRIGGER IF NOT EXISTS memory_days_delete AFTER DELETE ON memory BEGIN
    UPDATE memory_days SET points = points - 1 WHERE host = old.host AND day = old.time / 86400;
  END;
  -- counts rebuilt from the points whenever the schema is (re)applied
  DELETE FROM memory_days;
  INSERT INTO memory_days (host, day, points) SELECT host, time / 86400, COUNT(*) FROM memory GROUP BY host, time / 86400;
`;

/** Skips this deep go through the day counts instead of OFFSET alone. */
const COUNTED_SKIP = 1_000;
const DAY_SECONDS = 86_400;

// Error codes that mean the file cannot be used right now (locked, unreadable,
// full, replaced): the API answers 503 and the collector spools.
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|CORRUPT|NOTADB|PROTOCOL)/;

/**
 * Rows per streamed piece: about 32 KB of JSON. Far below the 128 KiB from which V8
 * keeps a string in its large-object space until a full collection: pieces of
 * 2,000 rows (about 130 KB) raised the peak memory of `bench:throughput`'s
 * `limit=99999` rows, at no gain in speed.
 */
const CHUNK_ROWS = 500;
/**
 * Page cache of a streamed page's own connection, in KiB (SQLite's default is
 * 2 MiB). It reads one range once, so a bigger cache buys nothing but memory: one
 * per page being streamed.
 */
const STREAM_CACHE_KIB = 256;
/** Remembered small pages, and the largest body remembered. */
const CACHED_PAGES = 128;
const CACHED_PAGE_MAX_CHARS = 256 * 1024;
/** Remembered pages are served for at most this long after another connection (the collector) commits. */
export const VERSION_CHECK_MS = 10;

const RECORD_JSON = `json_object('timestamp', time, 'total', total, 'free', free, 'used', used)`;

/**
 * A page as the API's body (parameters: host, before, limit, offset: the `limit`
 * points after the newest `offset` of those earlier than `before`). SQLite writes
 * the JSON itself: for 99,999 rows this takes about a third of the time of building
 * objects and then text in JavaScript. The inner query picks the page newest first;
 * the outer one feeds it to the aggregate oldest first. Exported for the
 * benchmark's raw query.
 */
export const PAGE_SQL = `SELECT json_group_array(${RECORD_JSON})
  FROM (SELECT time, total, free, used
        FROM (SELECT time, total, free, used FROM memory WHERE host = ? AND time < ? ORDER BY time DESC LIMIT ? OFFSET ?)
        ORDER BY time ASC)`;

/** Later than any point: `before` for a skip counted from the very newest. */
export const NO_BOUND = Number.MAX_SAFE_INTEGER;
const DAYS_SQL = 'SELECT day, points FROM memory_days WHERE host = ? AND points > 0 ORDER BY day DESC';
const TIME_AT_SQL = 'SELECT time FROM memory WHERE host = ? AND time < ? ORDER BY time DESC LIMIT 1 OFFSET ?';

/** Where the point `skip` from the newest is: at OFFSET `offset` among the points before `before`. */
interface Location {
  readonly before: number;
  readonly offset: number;
}

/**
 * Locates the point `skip` from a host's newest. A deep skip walks the day counts,
 * newest day first, so that OFFSET steps only within the day where it lands
 * (OFFSET alone is linear in SQLite). Undefined when the host has fewer points.
 */
function locate(days: Database.Statement<[string], [number, number]>, host: string, skip: number): Location | undefined {
  if (skip < COUNTED_SKIP) return { before: NO_BOUND, offset: skip };
  // Reads while the walk's statement is open are allowed; leaving it closes it.
  const at = bucketAt(days.iterate(host), skip);
  return at && { before: (at.bucket + 1) * DAY_SECONDS, offset: at.offset };
}
const NEWEST_HOST = 'SELECT host FROM memory ORDER BY time DESC, host ASC LIMIT 1';

/** A connection and the statements prepared on it: replaced together when the file is. */
class Connection {
  readonly insert: Database.Statement<[string, number, number, number, number]>;
  readonly newestHost: Database.Statement<[], string>;
  readonly page: Database.Statement<[string, number, number, number], string>;
  readonly days: Database.Statement<[string], [number, number]>;
  readonly hosts: Database.Statement<[], { host: string; latest: number }>;
  readonly ping: Database.Statement<[]>;
  readonly dataVersion: Database.Statement<[], number>;
  readonly writeAll: (points: readonly MemoryPoint[]) => void;

  constructor(readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO memory (host, time, total, free, used) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (host, time) DO UPDATE SET total = excluded.total, free = excluded.free, used = excluded.used`,
    );
    this.newestHost = db.prepare<[], string>(NEWEST_HOST).pluck();
    this.page = db.prepare<[string, number, number, number], string>(PAGE_SQL).pluck();
    this.days = db.prepare<[string], [number, number]>(DAYS_SQL).raw(true);
    // A loose index scan: one seek per host instead of reading every row.
    this.hosts = db.prepare(`
      WITH RECURSIVE hosts (host) AS (
        SELECT MIN(host) FROM memory
        UNION ALL
        SELECT (SELECT MIN(host) FROM memory WHERE host > hosts.host) FROM hosts WHERE hosts.host IS NOT NULL
      )
      SELECT host, (SELECT MAX(time) FROM memory WHERE memory.host = hosts.host) AS latest
      FROM hosts WHERE host IS NOT NULL ORDER BY latest DESC, host ASC`);
    this.ping = db.prepare('SELECT 1');
    // Changes whenever another connection (the collector) commits to the file.
    this.dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.writeAll = db.transaction((points: readonly MemoryPoint[]) => {
      for (const point of points) this.insert.run(point.host, point.timestamp, point.total, point.free, point.used);
    });
  }
}

/** Which file a path named when it was opened (undefined: none). */
type FileIdentity = { readonly dev: bigint; readonly ino: bigint } | undefined;

function identify(path: string): FileIdentity {
  const file = statSync(path, { bigint: true, throwIfNoEntry: false });
  return file && { dev: file.dev, ino: file.ino };
}

/** The points table's columns, in order: what tells this store's file from another database. */
const POINT_COLUMNS = 'host,time,total,free,used';

/**
 * Refuses a file that holds another database (SQLITE_PATH pointed at another
 * program's file): the schema would be added to it, changing a file that is not
 * this store's, or fail halfway on a table of the same name. This store's file has
 * no tables yet (new), or a `memory` table of its columns (an earlier version).
 */
function assertNotAnotherDatabase(db: Database.Database, path: string): void {
  if (tablesOf(db).length === 0) return;
  const columns = db.prepare<[], string>("SELECT name FROM pragma_table_info('memory')").pluck().all();
  if (columns.join() === POINT_COLUMNS) return;
  throw anotherDatabase(db, path);
}

/**
 * The statements of a file at this store's `user_version`. Another program may use
 * the same number: preparing them then fails on a table or column of ours that is
 * not there (SQLITE_ERROR), which is told as another database, not as a bad request.
 */
function prepareStatements(db: Database.Database, path: string): Connection {
  try {
    return new Connection(db);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'SQLITE_ERROR') throw error;
    throw anotherDatabase(db, path, { cause: error });
  }
}

function tablesOf(db: Database.Database): string[] {
  return db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").pluck().all();
}

function anotherDatabase(db: Database.Database, path: string, options?: { cause?: unknown }): StoreUnavailableError {
  const tables = tablesOf(db);
  const named = tables.length > 5 ? `${tables.slice(0, 5).join(', ')}, …` : tables.join(', ');
  return new StoreUnavailableError(`SQLite store unavailable: ${path} holds another database (tables: ${named || 'none'}); give SQLITE_PATH a file of its own`, options);
}

/** Opens the file at the configured path, creating it and its schema where needed. */
function openFile(config: SqliteStoreConfig): { connection: Connection; file: FileIdentity } {
  mkdirSync(dirname(config.path), { recursive: true });
  const db = connectSqlite(config.path, { timeout: config.timeoutMs });
  try {
    // Every collector run opens the file afresh: skip the DDL once it is in place.
    const current = db.pragma('user_version', { simple: true }) === SCHEMA_VERSION;
    // Before anything is written: WAL mode, too, stays in the file.
    let prepared: Connection | undefined;
    if (current) prepared = prepareStatements(db, config.path);
    else assertNotAnotherDatabase(db, config.path);
    db.pragma('journal_mode = WAL');
    // WAL with synchronous=NORMAL survives a process crash; only a power loss
    // can take the last commits, and the collector's spool covers those.
    db.pragma('synchronous = NORMAL');
    if (!current) {
      db.transaction(() => {
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    return { connection: prepared ?? new Connection(db), file: identify(config.path) };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The embedded store: one SQLite file in WAL mode. The only importer of the driver.
 *
 * Like an InfluxDB server, the file may be unusable for a while (locked, unreadable,
 * not a database, on a full disk): opening never fails, and each call opens the file
 * if no connection is open, and fails with the reason until it can. So the API
 * answers 503, the collector spools, and nothing needs a restart.
 */
export class SqliteStore implements MemoryStore {
  private connection: Connection | undefined;
  private file: FileIdentity;
  /** Small pages by query, valid while the file's data_version stays the same. */
  private readonly pages = new BoundedMap<string, string>(CACHED_PAGES);
  private pagesVersion = -1;
  /** When the connection was last checked against the file at the path. */
  private checkedMs = -Infinity;
  private closed = false;
  private readonly streamedPages = new Slots(STREAMED_PAGES);

  private constructor(private readonly config: SqliteStoreConfig) {}

  /** A store on the file at `config.path`, opened now (made, with its schema) if it can be. */
  static open(config: SqliteStoreConfig): SqliteStore {
    const store = new SqliteStore(config);
    try {
      store.current();
    } catch {
      // Each call tries again, and fails with the reason.
    }
    return store;
  }

  async write(points: readonly MemoryPoint[]): Promise<WriteReceipt> {
    assertValidPoints(points);
    guard(() => this.current().writeAll(points));
    // This connection's own commits do not move its data_version.
    this.pages.clear();
    return ALL_STORED;
  }

  async listJson({ host, limit, skip }: ListQuery): Promise<JsonBody> {
    // A small page in one guarded call, the store's check included: this runs on every request.
    if (limit <= STREAM_ABOVE_ROWS) return guard(() => this.smallPage(this.current(), host, limit, skip));
    // A closed store or a file gone fails now, not after the wait for a slot.
    guard(() => this.current());
    const release = await this.streamedPages.take(this.config.timeoutMs).catch((error: unknown) => {
      if (!(error instanceof NoFreeSlotError)) throw error;
      throw new StoreUnavailableError(
        `SQLite store busy: ${error.size} large pages were being sent, as many as it streams at once, and none ended within ${error.waitedMs} ms (STORE_TIMEOUT)`,
        { cause: error },
      );
    });
    try {
      return guard(() => this.streamPage(host, limit, skip, release));
    } catch (error) {
      release();
      throw error;
    }
  }

  async listHosts(): Promise<HostSummary[]> {
    return guard(() => this.current().hosts.all().map(({ host, latest }) => ({ host, latestTimestamp: latest })));
  }

  async health(): Promise<void> {
    guard(() => this.current().ping.get());
  }

  /** Drops the connection too: a collector run collects its garbage next (job.ts). */
  async close(): Promise<void> {
    this.closed = true;
    this.connection?.db.close();
    this.connection = undefined;
  }

  /**
   * The connection, checked at most once per VERSION_CHECK_MS: the data_version
   * (PRAGMA data_version is a read transaction, two file locks and a stat, each a
   * system call: most of a remembered page's cost if asked on every request), and
   * whether the path still names the file that was opened. A file removed or
   * replaced under a running API (a reset, a restored backup) would otherwise be
   * read through the old connection until a restart, while the collector writes to
   * the new one; so the store opens the file now at the path, as a start would.
   */
  private current(): Connection {
    if (this.closed) throw new StoreUnavailableError('SQLite store is closed');
    // Date.now, not performance.now, whose first call costs each collector run (a
    // fresh thread) a millisecond of CPU to load: a clock set back checks at once.
    const nowMs = Date.now();
    let connection = this.connection;
    const sinceCheckMs = nowMs - this.checkedMs;
    if (connection !== undefined && sinceCheckMs >= 0 && sinceCheckMs < VERSION_CHECK_MS) return connection;
    if (connection === undefined || !sameFile(this.file, identify(this.config.path))) connection = this.connectAnew();
    const version = connection.dataVersion.get()!;
    if (version !== this.pagesVersion) {
      this.pages.clear();
      this.pagesVersion = version;
    }
    this.checkedMs = nowMs;
    return connection;
  }

  /** Closes the connection if any, and opens the file at the path. */
  private connectAnew(): Connection {
    // SQLite neither checkpoints nor deletes the WAL of a file that moved when closing it.
    this.connection?.db.close();
    this.connection = undefined;
    // Its pages are another file's, and its data_version counts anew.
    this.pages.clear();
    this.pagesVersion = -1;
    const { connection, file } = openFile(this.config);
    this.connection = connection;
    this.file = file;
    return connection;
  }

  /**
   * One query, remembered until the data changes: a dashboard polling the same page
   * is answered from memory until the collector's next commit.
   */
  private smallPage(connection: Connection, host: string | undefined, limit: number, skip: number): string {
    const key = pageKey(limit, skip, host);
    const cached = this.pages.get(key);
    if (cached !== undefined) return cached;
    const selected = host ?? connection.newestHost.get();
    const at = selected === undefined ? undefined : locate(connection.days, selected, skip);
    const json = at === undefined ? '[]' : (connection.page.get(selected!, at.before, limit, at.offset) ?? '[]');
    if (json.length <= CACHED_PAGE_MAX_CHARS) {
      this.pages.set(key, json);
    }
    return json;
  }

  /**
   * A large page in pieces of CHUNK_ROWS, oldest first, each built by SQLite, with a
   * turn of the event loop between them so that other requests go on. A connection
   * of its own holds one read transaction for the whole page: every piece comes
   * from the same snapshot, whatever the collector writes meanwhile.
   */
  private streamPage(host: string | undefined, limit: number, skip: number, release: () => void): JsonBody {
    const reader = connectSqlite(this.config.path, { readonly: true, fileMustExist: true, timeout: this.config.timeoutMs });
    try {
      reader.pragma(`cache_size = -${STREAM_CACHE_KIB}`);
      reader.exec('BEGIN');
      const selected = host ?? reader.prepare<[], string>(NEWEST_HOST).pluck().get();
      const days = reader.prepare<[string], [number, number]>(DAYS_SQL).raw(true);
      const timeAt = reader.prepare<[string, number, number], number>(TIME_AT_SQL).pluck();
      const pointAt = (offset: number): number | undefined => {
        const at = locate(days, selected!, offset);
        return at === undefined ? undefined : timeAt.get(selected!, at.before, at.offset);
      };
      const newest = selected === undefined ? undefined : pointAt(skip);
      if (selected === undefined || newest === undefined) {
        reader.close();
        release();
        return '[]';
      }
      const oldest = pointAt(skip + limit - 1) ?? reader.prepare<[string], number>('SELECT MIN(time) FROM memory WHERE host = ?').pluck().get(selected)!;
      return pieces(reader, selected, oldest, newest, release);
    } catch (error) {
      reader.close();
      throw error;
    }
  }
}

/** The page's pieces; once it ended (read, failed, or returned), its reader is closed and `release` called. */
async function* pieces(reader: Database.Database, host: string, oldest: number, newest: number, release: () => void): AsyncGenerator<string> {
  try {
    const chunk = reader
      .prepare<[string, number, number], [string, number | null]>(
        `SELECT json_group_array(${RECORD_JSON}), MAX(time)
         FROM (SELECT time, total, free, used FROM memory WHERE host = ? AND time >= ? AND time <= ? ORDER BY time ASC LIMIT ${CHUNK_ROWS})`,
      )
      .raw(true);
    let from = oldest;
    let separator = '[';
    while (from <= newest) {
      const [json, last] = guard(() => chunk.get(host, from, newest)!);
      if (last === null) break;
      yield separator + json.slice(1, -1);
      separator = ',';
      from = last + 1;
      await nextTurn();
    }
    yield separator === '[' ? '[]' : ']';
  } finally {
    reader.close();
    release();
  }
}

function sameFile(opened: FileIdentity, now: FileIdentity): boolean {
  return opened !== undefined && now !== undefined && opened.dev === now.dev && opened.ino === now.ino;
}

/** Runs a driver call and turns its failures into the store's typed errors. */
function guard<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // SQLite's own codes, and the file system's (ENOTDIR, EACCES…) when opening.
    if (typeof code === 'string' && (UNAVAILABLE_CODES.test(code) || /^E[A-Z]+$/.test(code))) {
      throw new StoreUnavailableError(`SQLite store unavailable (${described(code, error)})`, { cause: error });
    }
    if (typeof code === 'string' && code.startsWith('SQLITE_')) {
      throw new StoreRequestError(`SQLite request failed (${described(code, error)})`, { cause: error });
    }
    throw error;
  }
}

/**
 * An error's code and what it says: the file system's name the path (`EEXIST: file
 * already exists, mkdir 'data'`, already led by the code), SQLite's the trouble
 * (`SQLITE_NOTADB: file is not a database`).
 */
function described(code: string, error: unknown): string {
  const message = (error as { message?: unknown }).message;
  if (typeof message !== 'string' || message === '') return code;
  return message.startsWith(`${code}:`) ? message : `${code}: ${message}`;
}

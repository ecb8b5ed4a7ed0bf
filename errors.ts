/**
 * Typed errors shared by every module. Each carries a stable `code` that tests and
 * callers branch on; the message is for humans and may change.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** What a failure says, whatever was thrown: its message, or the thrown value as text. */
export function messageOf(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

/** Configuration could not be loaded; `problems` lists every bad variable at once. */
export class ConfigError extends AppError {
  readonly code = 'CONFIG_INVALID';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

/**
 * The store could not be reached or did not answer in time. Retrying later may
 * succeed: the API answers 503, the collector spools the point.
 */
export class StoreUnavailableError extends AppError {
  readonly code = 'STORE_UNAVAILABLE';
}

/**
 * The store turned the service away: wrong credentials, or a user without the
 * rights it needs (InfluxDB 401 or 403; 2.x's 404 for a bucket the token may not
 * use, which it does not tell from a missing one). Nothing is wrong with the request, and an
 * operator's fix on either side ends it: the API answers 503, the collector spools
 * the point.
 */
export class StoreRefusedError extends AppError {
  readonly code = 'STORE_REFUSED';
}

/** The store answered, but refused or garbled the request: retrying will not help. */
export class StoreRequestError extends AppError {
  readonly code = 'STORE_REQUEST_FAILED';
}

/**
 * Input the import cannot read at all, so nothing of it is imported: a file missing
 * or unreadable, UTF-16 text, gzip data that is not, a terminal for standard input,
 * CSV whose header lacks the needed columns (or is over 1 MiB), a SQLite database
 * without a history table, or the file of the SQLite store the import writes to.
 */
export class ImportFileError extends AppError {
  readonly code = 'IMPORT_FILE_UNREADABLE';
}

/**
 * The store failed during an import of `input` (the message is the store's failure).
 * What it stored before stays: `stored` points, of the input's lines (records, rows:
 * its `unit`) up to `storedThrough`.
 */
export class ImportStoreFailedError extends AppError {
  readonly code = 'IMPORT_STORE_FAILED';

  constructor(
    readonly input: { readonly name: string; readonly unit: string },
    readonly stored: number,
    readonly storedThrough: number,
    cause: unknown,
  ) {
    super(messageOf(cause), { cause });
  }
}

/** A point that no store can hold (bad host, negative or fractional numbers). */
export class InvalidPointError extends AppError {
  readonly code = 'POINT_INVALID';
}

/** `/proc/meminfo` lacks a needed field or holds a value that is not a number. */
export class MeminfoParseError extends AppError {
  readonly code = 'MEMINFO_INVALID';
}

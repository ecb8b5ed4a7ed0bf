import { SqliteStore } from '../../storage/sqlite.js';
import { runJob } from '../job.js';

void runJob<'sqlite'>({
  open: (config) => SqliteStore.open(config),
  // The SQLite driver (better-sqlite3 12) frees its connection's and statements'
  // native objects only when V8 collects their JavaScript wrappers, and a thread that
  // ends first never does: about 2 KB a run, for good (3 MiB a day at one run a
  // minute). So a run on SQLite collects before it ends: about 9 ms of its CPU, by
  // hand (bench/FINDINGS.md, collector footprint).
  collectBeforeEnd: true,
});

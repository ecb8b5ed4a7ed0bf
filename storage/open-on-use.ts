import type { MemoryStore } from './types.js';

/**
 * A store opened at its first use, and again at each use until it opens. One that
 * cannot be opened (a SQLite file that is locked, unreadable, not a database, or on
 * a full disk) then fails each call with the error opening gave, as a store that is
 * down does: the API answers 503 and the collector spools, and nothing needs a
 * restart once the store can be opened. Calls made while an attempt is under way
 * share it; once open, calls go straight to the store. Closing forgets the store, so
 * that nothing here keeps it from being collected.
 */
export function openOnUse(open: () => Promise<MemoryStore>): MemoryStore {
  let store: MemoryStore | undefined;
  let opening: Promise<MemoryStore> | undefined;
  const use = <T>(call: (opened: MemoryStore) => Promise<T>): Promise<T> => {
    if (store !== undefined) return call(store);
    opening ??= open().then(
      (opened) => (store = opened),
      (error: unknown) => {
        opening = undefined;
        throw error;
      },
    );
    return opening.then(call);
  };
  return {
    write: (points, options) => use((opened) => opened.write(points, options)),
    listJson: (query) => use((opened) => opened.listJson(query)),
    listHosts: () => use((opened) => opened.listHosts()),
    health: () => use((opened) => opened.health()),
    async close() {
      const closing = store ?? (await opening?.catch(() => undefined));
      store = undefined;
      opening = undefined;
      await closing?.close();
    },
  };
}

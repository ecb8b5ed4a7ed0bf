import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreConfig } from '../../../config.js';

// What only one store's run needs: a bundle that holds another's has grown back into
// the one bundle for all stores that each run parsed whole (README, collector footprint).
const OWN_CODE: Record<StoreConfig['kind'], readonly string[]> = {
  sqlite: ['storage/sqlite.ts', 'node_modules/better-sqlite3/'],
  influxdb: ['storage/influx.ts'],
  influxdb2: ['storage/influx-v2.ts', 'node_modules/@influxdata/influxdb-client/'],
};
const JOB_DIR = join(process.cwd(), 'dist', 'job');

/** The source files a bundle was built from, by its source map. */
async function bundledSources(kind: string): Promise<string[]> {
  const map = JSON.parse(await readFile(join(JOB_DIR, `${kind}.cjs.map`), 'utf8')) as { sources: string[] };
  return map.sources;
}

describe("The collector's run bundles (npm run build:job)", () => {
  it('are one per store', async () => {
    const bundles = (await readdir(JOB_DIR)).filter((name) => name.endsWith('.cjs'));
    expect(bundles.sort()).to.deep.equal(Object.keys(OWN_CODE).map((kind) => `${kind}.cjs`).sort());
  });

  for (const [kind, own] of Object.entries(OWN_CODE)) {
    it(`${kind}.cjs holds its store's code and the run's, and no other store's`, async () => {
      const sources = await bundledSources(kind);
      const holds = (part: string): boolean => sources.some((source) => source.includes(part));
      for (const part of [...own, 'collector/job.ts', 'collector/collect.ts', 'collector/spool.ts']) expect(holds(part), part).to.equal(true);
      for (const [other, theirs] of Object.entries(OWN_CODE)) {
        if (other !== kind) for (const part of theirs) expect(holds(part), `${kind}.cjs holds ${part}`).to.equal(false);
      }
    });
  }
});

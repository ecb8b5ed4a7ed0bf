import { expect } from 'chai';
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApi, type RunningApi } from '../../api/server.js';
import { InfluxStore } from '../../storage/influx.js';
import { SqliteStore } from '../../storage/sqlite.js';
import type { MemoryStore } from '../../storage/types.js';
import { testListen } from '../helpers/api.js';
import { sharedInflux } from '../helpers/influx-fixture.js';
import { capturingLogger } from '../helpers/logger.js';

const QUERIES = 5_000;
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_128);

/** mulberry32: a small seeded generator, so a failure can be replayed with FUZZ_SEED. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const NAMES = ['limit', 'skip', 'host', 'LIMIT', 'Skip', 'li%6Dit', 'x', '', 'limit[]', '%00'];
const PIECES = ['0', '1', '9', '-', '+', '_', '.', 'e', '+', '%20', '%2B', '%', '%ZZ', '%FF', '%C3%A9', '%D9%A3', '%EF%BC%95', 'inf', 'nan', 'true', '[', ']', '0x', '99999', '100000', '18446744073709551616'];

function randomValue(random: () => number): string {
  const roll = random();
  if (roll < 0.1) return String(Math.floor(random() * 200_000) - 50_000);
  if (roll < 0.15) return '9'.repeat(1 + Math.floor(random() * 4_400));
  if (roll < 0.25) {
    // Random bytes, percent-encoded: invalid UTF-8, controls, anything.
    return Array.from({ length: 1 + Math.floor(random() * 12) }, () => `%${Math.floor(random() * 256).toString(16).padStart(2, '0')}`).join('');
  }
  return Array.from({ length: Math.floor(random() * 6) }, () => PIECES[Math.floor(random() * PIECES.length)]).join('');
}

/** Up to 4 pairs; at most 12 KiB in all, under the server's 16 KiB request-head limit (a 431). */
function randomQuery(random: () => number): string {
  const pairs = Array.from({ length: Math.floor(random() * 5) }, () => {
    const name = NAMES[Math.floor(random() * NAMES.length)]!;
    return random() < 0.1 ? name : `${name}=${randomValue(random)}`;
  });
  const query = pairs.join(random() < 0.9 ? '&' : '&&');
  return query.length > 12 * 1024 ? query.slice(0, 12 * 1024) : query;
}

const ISSUE_KEYS = ['type', 'loc', 'msg', 'input', 'ctx', 'url'];
const MESSAGES: Record<string, RegExp> = {
  int_parsing: /^Input should be a valid integer, unable to parse string as an integer$/,
  int_parsing_size: /^Unable to parse input string as an integer, exceeded maximum size$/,
  greater_than: /^Input should be greater than 0$/,
  less_than: /^Input should be less than 100000$/,
  greater_than_equal: /^Input should be greater than or equal to 0$/,
  string_too_short: /^String should have at least 1 character$/,
  string_too_long: /^String should have at most 255 characters$/,
  string_pattern_mismatch: /^String should match pattern '\^\[\^\\x00-\\x1F\\x7F\]\*\$'$/,
};

function checkRecords(body: unknown): void {
  expect(body).to.be.an('array');
  for (const record of body as Array<Record<string, unknown>>) {
    expect(Object.keys(record)).to.deep.equal(['timestamp', 'total', 'free', 'used']);
    for (const value of Object.values(record)) expect(Number.isSafeInteger(value)).to.equal(true);
  }
}

function checkValidation(body: { detail: Array<Record<string, unknown>> }): void {
  expect(Object.keys(body)).to.deep.equal(['detail']);
  expect(body.detail).to.be.an('array').that.is.not.empty;
  const order = body.detail.map((issue) => (issue.loc as string[])[1]);
  expect(order).to.deep.equal(['limit', 'skip', 'host'].filter((name) => order.includes(name)), 'one item per parameter, in order');
  for (const issue of body.detail) {
    expect(ISSUE_KEYS.filter((key) => key in issue)).to.deep.equal(Object.keys(issue));
    expect(issue.msg).to.match(MESSAGES[issue.type as string]!);
    expect(issue.input).to.be.a('string');
    expect(issue.url).to.equal(`https://errors.pydantic.dev/2.6/v/${issue.type}`);
  }
}

/** The stores fuzzed: each builds its queries from the parameters its own way (SQL's bound values, InfluxQL's quoted strings). */
const STORES: ReadonlyArray<{ name: string; open(context: Mocha.Context, dir: string): Promise<MemoryStore> }> = [
  { name: 'SQLite', open: async (_, dir) => SqliteStore.open({ kind: 'sqlite', path: join(dir, 'db.sqlite'), timeoutMs: 1_000 }) },
  // The store itself, without the read cache in front of it: every valid query reaches InfluxDB.
  { name: 'InfluxDB', open: async (context) => new InfluxStore((await sharedInflux(context)).storeConfig()) },
];

for (const { name, open } of STORES) describe(`Fuzzed query strings on ${name} (${QUERIES} random, seed ${SEED}): only documented answers`, function () {
  this.timeout(120_000);
  let dir: string;
  let store: MemoryStore;
  let api: RunningApi;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'mt-fuzz-'));
    store = await open(this, dir);
    await store.write(Array.from({ length: 50 }, (_, i) => ({ host: 'h', timestamp: 1_647_033_600 + i * 60, total: 8_192, free: 2_048, used: 6_144 })));
    api = await startApi(testListen(), store, capturingLogger().logger);
  });
  after(async () => {
    agent.destroy();
    await api.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers each with 200 and records, or 422 and pydantic items', async () => {
    const random = generator(SEED);
    const statuses = new Map<number, number>();
    const send = (query: string) =>
      new Promise<{ status: number; body: string; type: string | undefined }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: api.port, path: `/memory-logs/?${query}`, agent }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
        })
          .on('error', reject)
          .end();
      });
    const queries = Array.from({ length: QUERIES }, () => randomQuery(random));
    for (let i = 0; i < queries.length; i += 8) {
      await Promise.all(
        queries.slice(i, i + 8).map(async (query) => {
          const { status, body, type } = await send(query);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          try {
            expect([200, 422]).to.include(status);
            expect(type).to.equal('application/json');
            if (status === 200) checkRecords(JSON.parse(body));
            else checkValidation(JSON.parse(body) as { detail: Array<Record<string, unknown>> });
          } catch (error) {
            throw new Error(`query "${query.slice(0, 300)}" (seed ${SEED}): ${(error as Error).message}\n${body.slice(0, 500)}`);
          }
        }),
      );
    }
    // Both kinds of answer were exercised.
    expect(statuses.get(200)).to.be.greaterThan(QUERIES / 20);
    expect(statuses.get(422)).to.be.greaterThan(QUERIES / 20);
  });
});

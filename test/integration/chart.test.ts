/// <reference lib="dom" />
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startApi, type RunningApi } from '../../api/server.js';
import { SqliteStore } from '../../storage/sqlite.js';
import { testListen } from '../helpers/api.js';
import { capturingLogger } from '../helpers/logger.js';
import { startHttpProxy, stripPrefix } from '../helpers/http-proxy.js';
import { requireTool } from '../helpers/tools.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where the test run leaves its screenshot (dist/ is not committed). */
const SCREENSHOT = join(process.cwd(), 'dist', 'test-artifacts', 'chart.png');

describe('The built-in chart (headless Chromium)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: SqliteStore;
  let api: RunningApi;
  let browser: Browser;
  const now = Math.floor(Date.now() / 60_000) * 60;
  before(async function () {
    requireTool(this, CHROMIUM, ['--version'], 'REQUIRE_CHROMIUM', "Debian: apt-get install chromium");
    dir = await mkdtemp(join(tmpdir(), 'mt-chart-'));
    store = SqliteStore.open({ kind: 'sqlite', path: join(dir, 'db.sqlite'), timeoutMs: 1_000 });
    // Six hours of a saw-tooth for two hosts, one point a minute.
    for (const [host, base] of [['web-1', 3_000], ['db-1', 6_000]] as const) {
      await store.write(Array.from({ length: 360 }, (_, i) => ({ host, timestamp: now - (359 - i) * 60, total: 8_192, free: 8_192 - (base + (i % 60) * 20), used: base + (i % 60) * 20 })));
    }
    api = await startApi(testListen(), store, capturingLogger().logger, { collectIntervalMs: 60_000 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads, draws used / free / total from the API for the chosen host, and leaves a screenshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    const failed: string[] = [];
    page.on('requestfailed', (req) => failed.push(req.url()));
    page.on('pageerror', (error) => failed.push(error.message));
    await page.goto(`http://127.0.0.1:${api.port}/?host=db-1`);
    await page.waitForFunction(() => /points/.test(document.getElementById('status')?.textContent ?? ''));
    expect(await page.textContent('#status')).to.match(/^360 points, newest /);
    expect(await page.$$eval('#host option', (options) => options.map((option) => (option as HTMLOptionElement).value))).to.have.members(['web-1', 'db-1']);
    expect(await page.inputValue('#host')).to.equal('db-1');
    const drawn = await page.evaluate(() => {
      const chart = (window as unknown as { memoryChart: { series: Array<{ label: string }>; data: number[][] } }).memoryChart;
      return { labels: chart.series.slice(1).map((one) => one.label), points: chart.data[0]!.length, firstUsed: chart.data[1]![0], lastTotal: chart.data[3]!.at(-1) };
    });
    expect(drawn).to.deep.equal({ labels: ['used', 'free', 'total'], points: 360, firstUsed: 6_000, lastTotal: 8_192 });
    expect(await page.locator('.uplot canvas').count()).to.be.greaterThan(0);

    await page.selectOption('#range', '3600');
    await page.waitForFunction(() => /^60 points/.test(document.getElementById('status')?.textContent ?? ''));

    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect((await stat(SCREENSHOT)).size).to.be.greaterThan(10_000);
    expect(failed).to.deep.equal([]);
  });

  it('works behind a proxy that serves the API under a path prefix: the chart, a redirect, and the docs\' "Try it out"', async () => {
    const proxy = await startHttpProxy(api.port, stripPrefix('/memory'));
    const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
    // The proxy answers 404 to anything outside its prefix: an address that escaped it.
    const failed: string[] = [];
    page.on('requestfailed', (req) => failed.push(req.url()));
    page.on('response', (response) => response.status() >= 400 && failed.push(`${response.status()} ${response.url()}`));
    page.on('pageerror', (error) => failed.push(error.message));
    const base = `http://127.0.0.1:${proxy.port}/memory`;
    try {
      // Without its slash, as a user types it: the page adds it (what the browser
      // fetched ahead meanwhile, against the slash-less address, fails: not counted).
      await page.goto(`${base}?host=db-1`);
      await page.waitForFunction(() => /points/.test(document.getElementById('status')?.textContent ?? ''));
      expect(page.url()).to.equal(`${base}/?host=db-1`);
      failed.length = 0;

      await page.goto(`${base}/?host=web-1`);
      await page.waitForFunction(() => /points/.test(document.getElementById('status')?.textContent ?? ''));
      expect(await page.textContent('#status')).to.match(/^360 points, newest /);
      expect(await page.inputValue('#host')).to.equal('web-1');

      const redirected = await page.goto(`${base}/memory-logs?limit=2&host=web-1`);
      expect(page.url()).to.equal(`${base}/memory-logs/?limit=2&host=web-1`);
      expect(JSON.parse(await redirected!.text())).to.have.length(2);

      await page.goto(`${base}/docs`);
      await page.locator('.opblock-summary-path', { hasText: '/memory-logs/' }).click();
      await page.locator('.try-out__btn').click();
      await page.locator('.execute').click();
      await page.locator('.live-responses-table tr.response .response-col_status').first().waitFor();
      expect((await page.locator('.live-responses-table tr.response .response-col_status').first().textContent())?.trim()).to.equal('200');
      const asked = (await page.locator('.request-url pre').textContent()) ?? '';
      expect(asked.startsWith(`${base}/memory-logs/`), asked).to.equal(true);
      expect(failed).to.deep.equal([]);
    } finally {
      await page.close();
      await proxy.close();
    }
  });
});

// The /ui dashboard in a real browser: Debian's headless Chromium driven by playwright-core
// (no browser download; .ci/run installs `chromium`). The page loads from the running agent,
// draws its charts from /events, updates them as data flows, loads nothing from elsewhere, and
// a screenshot is written (its path is printed, to look at).
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { fileToFileConfig, seqLines, startAgent, tempDir, waitFor, type Agent } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';

let dir: string;
let cleanup: () => Promise<void>;
let agent: Agent | undefined;
let browser: BrowserContext | undefined;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => {
  await browser?.close();
  if (agent && agent.proc.exitCode === null) agent.proc.kill('SIGKILL');
  await cleanup();
});

// Skipped only on a developer machine without chromium; CI installs it, so there it must run.
test.skipIf(!existsSync(CHROMIUM) && !process.env.CI)(
  'the dashboard loads, its charts update, a screenshot is written',
  async () => {
    const log = join(dir, 'app.log');
    await writeFile(log, seqLines(0, 1000));
    const cfg = await fileToFileConfig(dir, [log], 'api: {enabled: true, address: 127.0.0.1:0}\n');
    agent = startAgent(['--config', cfg]);
    let url = '';
    await waitFor(
      () =>
        (url = /admin API listening url=(http:\/\/\S+)/.exec(agent!.stderr())?.[1] ?? '') !== '',
      'the admin API',
      15_000,
      agent.stderr,
    );
    // Traffic while the page watches: the throughput chart has something to show.
    let n = 1000;
    const traffic = setInterval(() => {
      void appendFile(log, seqLines(n, n + 200));
      n += 200;
    }, 50);

    try {
      // A new, empty profile (playwright-core passes it as --user-data-dir).
      const profile = await mkdtemp(join(tmpdir(), 'ves-chromium-'));
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 900 },
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const page = await browser.newPage();
      const elsewhere: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(url)) elsewhere.push(r.url());
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}/ui`);
      const status = page.locator('#status');
      await expect.poll(() => status.textContent(), { timeout: 10_000 }).toBe('ok');

      // One evaluate, so the three values come from the same moment (an update can land
      // between separate reads). A string: the tests are type-checked without the DOM types.
      const read = () =>
        page.evaluate(`(() => {
          const chart = document.getElementById('c-tp');
          return {
            points: Number(chart.dataset.points || 0),
            last: chart.dataset.last || '',
            total: document.getElementById('meta').textContent,
          };
        })()`) as Promise<{ points: number; last: string; total: string }>;
      await expect
        .poll(async () => (await read()).points, { timeout: 10_000 })
        .toBeGreaterThanOrEqual(1);
      const before = await read();
      await expect.poll(async () => (await read()).last, { timeout: 10_000 }).not.toBe(before.last);
      const after = await read();
      expect(after.points).toBeGreaterThan(before.points);
      expect(after.total).not.toBe(before.total); // the totals in the header moved too
      // The tables and tiles are filled from the same snapshot.
      expect(await page.locator('#sources tbody td').first().textContent()).toBe('app');
      expect(await page.locator('#sinks tbody td').nth(1).textContent()).toBe('healthy');
      expect(await page.locator('#t-in').textContent()).not.toBe('-');
      // The latency chart has points too (values or gaps, one per snapshot).
      expect(
        Number(await page.locator('#c-lat').getAttribute('data-points')),
      ).toBeGreaterThanOrEqual(2);

      const shots = await mkdtemp(join(tmpdir(), 'ves-dashboard-'));
      const file = join(shots, 'dashboard.png');
      await page.screenshot({ path: file, fullPage: true });
      expect(existsSync(file)).toBe(true);
      console.log(`dashboard screenshot: ${file}`);
      expect(errors).toEqual([]);
      expect(elsewhere).toEqual([]);
    } finally {
      clearInterval(traffic);
    }
  },
);

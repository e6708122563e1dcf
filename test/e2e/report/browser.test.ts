/**
 * The Iris report of a real local run, opened in headless Chromium: it must load with no console error and no
 * request at all besides the file itself, and its charts must be drawn (sized, and not blank on screen).
 * Set UPDATE_REPORT_SCREENSHOT=1 to refresh docs/report-screenshot.png.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { irisReportFromLocalRun } from './irisReport';
import { pixelStats } from './png';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.resolve(__dirname, '../../../docs/report-screenshot.png');
/** The flags this environment's Chromium needs to start headless without reaching any network service. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const chromiumMissing = !existsSync(CHROMIUM);
const describeInBrowser = chromiumMissing ? describe.skip : describe;

if (chromiumMissing) {
  test.skip(`report browser test skipped: ${CHROMIUM} not found (install it with: apt-get install -y chromium)`, () =>
    undefined);
}

describeInBrowser('Iris report in headless Chromium', () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  let writtenByPipeline: boolean;
  let reportBytes: number;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const failedRequests: string[] = [];
  let reportUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'knn-report-browser-'));
    const report = await irisReportFromLocalRun(path.join(dir, 'cloud'));
    writtenByPipeline = report.writtenByPipeline;
    reportBytes = Buffer.byteLength(report.html);
    const file = path.join(dir, 'report.html');
    writeFileSync(file, report.html);
    reportUrl = pathToFileURL(file).href;
    // A new, empty profile: nothing from another run can change what the page shows.
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 900 },
      deviceScaleFactor: 1,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.on('request', (request) => requests.push(request.url()));
    page.on('requestfailed', (request) => failedRequests.push(`${request.url()}: ${request.failure()?.errorText}`));
    await page.goto(reportUrl, { waitUntil: 'load' });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('is one small file', () => {
    expect(reportBytes).toBeLessThan(512 * 1024);
  });

  test('loads with no console error and requests nothing but itself', () => {
    expect(consoleErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
    expect(requests).toEqual([reportUrl]);
  });

  test('shows the run: every section, the gate verdict and the misclassified Iris row', async () => {
    const ids = await page.locator('section').evaluateAll((sections) => sections.map((section) => section.id));
    expect(ids).toEqual([
      'dataset',
      'scatter-matrix',
      'split',
      'features',
      'cross-validation',
      'tuning',
      'training',
      'confusion-matrix',
      'metrics',
      'validation',
      'execution-path',
      'cost',
    ]);
    await expect(page.locator('header .badge').textContent()).resolves.toBe('quality gate passed');
    const misses = page.locator('#validation tr.miss');
    await expect(misses.count()).resolves.toBe(1);
    await expect(misses.first().textContent()).resolves.toMatch(/versicolor\s*virginica\s*✖ miss/);
  });

  test('draws every chart at a visible size, not blank', async () => {
    const charts = page.locator('figure svg');
    const count = await charts.count();
    expect(count).toBeGreaterThanOrEqual(writtenByPipeline ? 3 : 4);
    for (let index = 0; index < count; index++) {
      const chart = charts.nth(index);
      const box = await chart.boundingBox();
      expect(box && box.width > 100 && box.height > 50).toBe(true);
      const stats = pixelStats(await chart.screenshot());
      // Axes, labels and coloured marks: many colours and a clear spread of brightness.
      expect(stats.distinctColours).toBeGreaterThan(20);
      expect(stats.luminanceSpread).toBeGreaterThan(10);
    }
    // The scatter matrix has its 6 panels of 150 points each on screen.
    const points = await page.locator('#scatter-matrix svg path[transform^="translate"]').count();
    expect(points).toBeGreaterThanOrEqual(6 * 150);
  });

  test('the whole page screenshot is a real picture', async () => {
    const png = await page.screenshot({ fullPage: true });
    const stats = pixelStats(png);
    expect(stats.height).toBeGreaterThan(2000);
    expect(stats.distinctColours).toBeGreaterThan(200);
    if (process.env.UPDATE_REPORT_SCREENSHOT === '1') {
      // The top of the report (header, dataset, scatter matrix) is what a README reader needs to see.
      writeFileSync(
        SCREENSHOT,
        await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width: 1200, height: 1300 } }),
      );
    }
  });
});

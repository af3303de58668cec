// The dashboard in a real headless Chromium while a devnet stream runs: the page shows the stream and its
// orchestrator, its player plays (currentTime advances), the assets carry a CSP and no inline script.
// A screenshot is saved under test/artifacts/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { startOrchestrator, type RunningOrchestrator } from '../../scripts/devnet/orchestrator/orchestrator.ts';
import { killPublishers, publishTestStream } from '../media/testMedia.ts';
import { startTestNode, waitUntil, type TestNode } from './helpers.ts';

// The page's globals as the functions that run inside Chromium use them (this project's types are Node's).
interface PageElement {
  textContent: string | null;
  currentTime: number;
  cells: ArrayLike<PageElement>;
}
declare const document: { querySelectorAll(selector: string): ArrayLike<PageElement>; querySelector(selector: string): PageElement | null };

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('which', [name]).toString().trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

describe('dashboard in a browser', () => {
  let orch: RunningOrchestrator;
  let node: TestNode;
  let browser: Browser;
  const profileDir = mkdtempSync(join(tmpdir(), 'lpgw-chromium-'));
  before(async () => {
    orch = await startOrchestrator({ logLevel: 'silent' });
    node = await startTestNode({ network: 'offchain', orchAddr: orch.uri, transcodingOptions: 'P144p30fps16x9' });
  });
  after(async () => {
    killPublishers();
    await browser?.close().catch(() => {});
    await node?.stop();
    await orch?.stop();
    rmSync(profileDir, { recursive: true, force: true });
  });

  it('serves its assets with their types and a CSP, and no inline script', async () => {
    const page = await fetch(`${node.controlUrl}/dashboard`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
    const html = await page.text();
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'every script has a src');
    assert.ok(!/\son[a-z]+=/i.test(html), 'no inline handlers');
    for (const [path, type] of [
      ['/dashboard/app.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/app.css', 'text/css; charset=utf-8'],
      ['/dashboard/hls.min.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/state.json', 'application/json'],
    ]) {
      const r = await fetch(`${node.controlUrl}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('content-type'), type, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
    assert.equal((await fetch(`${node.controlUrl}/dashboard/../../package.json`)).status, 404);
    assert.equal((await fetch(`${node.controlUrl}/dashboard/nope.js`)).status, 404);
    assert.equal((await fetch(`${node.controlUrl}/dashboard`, { method: 'POST' })).status, 405);
  });

  it('shows a live stream and its orchestrator, and plays it', { timeout: 300_000 }, async () => {
    const executablePath = chromiumPath();
    assert.ok(executablePath, 'chromium is installed (.ci/run installs it)');
    const mid = 'dashcam';
    const pub = publishTestStream(`${node.gateway.rtmpUrl}/live/${encodeURIComponent(mid)}/key1`, { seconds: 120 });
    await waitUntil(async () => node.gateway.stream(mid)?.stats.orchestrator, 180_000, 'a transcoded segment');

    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
        `--user-data-dir=${profileDir}`,
      ],
      protocolTimeout: 120_000,
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 860 });
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await page.goto(`${node.controlUrl}/dashboard`, { waitUntil: 'load', timeout: 60_000 });

    // the stream (its name shown as text, not markup) and its orchestrator
    await page.waitForFunction(
      (name) => Array.from(document.querySelectorAll('#streams tbody td')).some((td) => td.textContent === name),
      { timeout: 60_000 },
      mid,
    );
    await page.waitForFunction(
      (uri) => Array.from(document.querySelectorAll('#orchs tbody td')).some((td) => td.textContent === uri),
      { timeout: 60_000 },
      orch.uri,
    );
    const orchRow = await page.$$eval('#orchs tbody tr', (rows) => rows.map((r) => Array.from((r as unknown as PageElement).cells).map((c) => c.textContent)));
    assert.ok(
      orchRow.some((cells) => cells[0] === orch.uri && cells[1] === 'in use'),
      JSON.stringify(orchRow),
    );
    assert.equal(await page.$eval('#live', (e) => e.textContent), 'live', 'the event stream is connected');

    // the player: currentTime advances
    const t0 = await page.waitForFunction(
      () => {
        const v = document.querySelector('video');
        return v && v.currentTime > 0 ? v.currentTime : false;
      },
      { timeout: 120_000, polling: 500 },
    );
    const first = (await t0.jsonValue()) as number;
    await page.waitForFunction((t) => (document.querySelector('video')?.currentTime ?? 0) > t + 1, { timeout: 60_000, polling: 500 }, first);
    await page.waitForFunction(() => document.querySelectorAll('#events li').length > 0, { timeout: 30_000 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    assert.deepEqual(cspViolations, []);
    pub.kill();
  });
});

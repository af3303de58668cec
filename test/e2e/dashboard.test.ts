// The dashboard in a real headless Chromium while a devnet stream runs, on a node protected by -cliToken:
// the browser is sent to the login page, signs in through the form, then sees the stream (with segment
// counts per rendition) and its orchestrator, and its player plays (currentTime advances); the assets carry
// a CSP and no inline script. At 1366×768 and 1024×768 (laptops) nothing scrolls sideways and the player
// and tables stay in view. Screenshots are saved under test/artifacts/.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  dataset: Record<string, string>;
  querySelector(selector: string): PageElement | null;
  getBoundingClientRect(): { left: number; right: number; top: number; width: number; height: number };
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  querySelector(selector: string): PageElement | null;
  documentElement: { scrollWidth: number };
  cookie: string;
};
declare const window: { innerWidth: number; innerHeight: number };

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
  const TOKEN = 'dashboard-test-token';
  const bearer = { Authorization: `Bearer ${TOKEN}` };
  before(async () => {
    orch = await startOrchestrator({ logLevel: 'silent' });
    writeFileSync(join(profileDir, 'token'), `${TOKEN}\n`);
    node = await startTestNode({ network: 'offchain', orchAddr: orch.uri, transcodingOptions: 'P144p30fps16x9', cliToken: join(profileDir, 'token') });
  });
  after(async () => {
    killPublishers();
    await browser?.close().catch(() => {});
    await node?.stop();
    await orch?.stop();
    rmSync(profileDir, { recursive: true, force: true });
  });

  it('serves its assets with their types and a CSP, and no inline script', async () => {
    const anonymous = await fetch(`${node.controlUrl}/dashboard`, { redirect: 'manual' });
    assert.equal(anonymous.status, 303, 'without a session: to the login page');
    assert.equal(anonymous.headers.get('location'), '/dashboard/login');
    const page = await fetch(`${node.controlUrl}/dashboard`, { headers: bearer });
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
      assert.equal((await fetch(`${node.controlUrl}${path}`)).status, path === '/dashboard/app.css' ? 200 : 401, `${path} without a session`);
      const r = await fetch(`${node.controlUrl}${path}`, { headers: bearer });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('content-type'), type, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
    assert.equal((await fetch(`${node.controlUrl}/dashboard/../../package.json`, { headers: bearer })).status, 404);
    assert.equal((await fetch(`${node.controlUrl}/dashboard/nope.js`, { headers: bearer })).status, 404);
    assert.equal((await fetch(`${node.controlUrl}/dashboard`, { method: 'POST', headers: bearer })).status, 405);
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

    // sent to the login page; a wrong token is refused, the right one signs in through the form
    assert.equal(new URL(page.url()).pathname, '/dashboard/login');
    await page.type('#token', 'not-the-token');
    const [refused] = await Promise.all([page.waitForNavigation({ timeout: 60_000 }), page.click('button[type=submit]')]);
    assert.equal(refused?.status(), 401, await page.content());
    assert.equal(await page.$eval('#login-error', (e) => e.textContent), 'Wrong token.');
    await page.type('#token', TOKEN);
    await Promise.all([page.waitForNavigation({ timeout: 60_000 }), page.click('button[type=submit]')]);
    assert.equal(new URL(page.url()).pathname, '/dashboard');
    const cookies = await page.cookies();
    const session = cookies.find((c) => c.name === 'lpgw_session');
    assert.ok(session?.httpOnly && session.sameSite === 'Strict', JSON.stringify(cookies));
    assert.equal(await page.evaluate(() => document.cookie), '', 'the page script cannot read the session');
    assert.ok(!page.url().includes(TOKEN));

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

    // segment counts per rendition: the source and the profile, each as the node counts them
    await page.waitForFunction(
      () => {
        const counts = Array.from(document.querySelectorAll('#streams tbody td.rends li')).map((li) => Number(li.querySelector('.rc')?.textContent));
        return counts.length === 2 && counts.every((n) => n > 0);
      },
      { timeout: 60_000 },
    );
    const shown = await page.$$eval('#streams tbody td.rends li', (lis) =>
      lis.map((li) => [(li as unknown as PageElement).dataset.rendition, Number((li as unknown as PageElement).querySelector('.rc')?.textContent)]),
    );
    assert.deepEqual(
      shown.map(([name]) => name),
      ['source', 'P144p30fps16x9'],
    );
    const stats = node.gateway.stream(mid)!.stats;
    const [shownSource, shownP144] = [shown[0]![1] as number, shown[1]![1] as number];
    // the page shows a snapshot; the node's counters only grow
    assert.ok(shownSource > 0 && shownSource <= stats.sourceSegments, `source ${shownSource} of ${stats.sourceSegments}`);
    assert.ok(shownP144 > 0 && shownP144 <= stats.renditionSegments.P144p30fps16x9!, `P144 ${shownP144} of ${JSON.stringify(stats.renditionSegments)}`);

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

    // laptop widths: no sideways scrolling; the player and both tables start on the first screen, not squeezed away
    for (const [width, height] of [
      [1366, 768],
      [1024, 768],
    ] as const) {
      await page.setViewport({ width, height });
      await page.waitForFunction((w) => window.innerWidth === w, { timeout: 30_000 }, width);
      // no named helpers inside: the code runs in the page, without the test runner's transpiler helpers
      const fit = await page.evaluate(() => {
        const [player, streams, orchs] = ['#player', '#streams', '#orchs'].map((sel) => {
          const r = document.querySelector(sel)?.getBoundingClientRect();
          return r ? { left: r.left, right: r.right, top: r.top, width: r.width, height: r.height } : null;
        });
        return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, innerHeight: window.innerHeight, player, streams, orchs };
      });
      assert.ok(fit.scrollWidth <= fit.innerWidth, `${width}px: no horizontal scroll (${JSON.stringify(fit)})`);
      for (const part of ['player', 'streams', 'orchs'] as const) {
        const b = fit[part];
        assert.ok(
          b && b.left >= 0 && b.right <= fit.innerWidth && b.width >= 300 && b.height > 0 && b.top < fit.innerHeight,
          `${width}px: ${part} visible (${JSON.stringify(fit)})`,
        );
      }
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-${width}x${height}.png`) });
    }
    assert.deepEqual(cspViolations, []);
    pub.kill();
  });
});

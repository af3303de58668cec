// The dashboard's login on a control server protected by a token, over real HTTP: the form trades the
// token for an HttpOnly session cookie that opens the dashboard's reads and nothing else; hostile callers
// (wrong token, cross-site form posts, expired or forged cookies, guessing) get no session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/lib/log.ts';
import { bearerTokenCheck, sessionCookieCheck } from '../../src/server/access.ts';
import { jsonReply, readRoute, startControlServer, textReply, type ControlServer } from '../../src/server/control.ts';
import { createDashboardRoute } from '../../src/server/dashboard.ts';
import { admittedBy, createDashboardLoginRoute, SESSION_COOKIE } from '../../src/server/dashboardLogin.ts';
import { LoginThrottle } from '../../src/server/loginThrottle.ts';
import { SessionTable } from '../../src/server/sessions.ts';
import { crossSite, rawRequest, type RawAnswer } from '../hostile/rawHttp.ts';

const TOKEN = 'correct horse battery staple';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const HOUR = 3600_000;

describe('dashboard login with -cliToken', () => {
  let clock = 1_000_000;
  const now = () => clock;
  const sessions = new SessionTable({ now, ttlMs: 12 * HOUR });
  const throttle = new LoginThrottle({ now, perAddress: 5, windowMs: 60_000 });
  let server: ControlServer;
  const logged: string[] = [];

  before(async () => {
    const token = bearerTokenCheck(TOKEN);
    const checks = [token, sessionCookieCheck(sessions, SESSION_COOKIE)];
    const hlsOrigin = 'http://127.0.0.1:9';
    const log = silentLogger();
    for (const level of ['info', 'warn', 'error'] as const) log[level] = ((...args: unknown[]) => logged.push(JSON.stringify(args))) as never;
    server = await startControlServer({
      port: 0,
      log,
      access: checks,
      publicRoutes: [
        createDashboardLoginRoute({ token, sessions, throttle, admitted: admittedBy(checks), hlsOrigin }),
        createDashboardRoute({ state: async () => ({}), hlsOrigin, publicOnly: true }),
      ],
      httpRoutes: [createDashboardRoute({ state: async () => ({ streams: [] }), hlsOrigin })],
      routes: { '/status': readRoute(() => jsonReply({ ok: true })), '/setLogLevel': () => textReply('changed') },
    });
  });
  after(() => server.close());

  const url = (path: string) => `${server.url}${path}`;
  const login = (token: string, headers: Record<string, string> = {}) =>
    rawRequest(url('/dashboard/login'), { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams({ token }).toString() });
  const cookieOf = (r: RawAnswer): string | undefined => {
    const set = r.headers['set-cookie'];
    return Array.isArray(set) ? set[0] : set;
  };
  const session = (r: RawAnswer): string => /^lpgw_session=([^;]*)/.exec(cookieOf(r) ?? '')![1]!;
  const withCookie = (id: string) => ({ Cookie: `${SESSION_COOKIE}=${id}` });

  it('sends a visitor without a session from /dashboard to the login page; its data stays closed', async () => {
    const r = await rawRequest(url('/dashboard'));
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/dashboard/login');
    const page = await rawRequest(url('/dashboard/login'));
    assert.equal(page.status, 200);
    assert.match(page.text, /<form[^>]*method="post"[^>]*action="\/dashboard\/login"/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    // no-referrer would make browsers post the form with `Origin: null`, which the browser rule refuses
    assert.equal(page.headers['referrer-policy'], 'same-origin');
    assert.equal((await rawRequest(url('/dashboard/app.css'))).status, 200, 'the login page has its style');
    for (const path of ['/dashboard/state.json', '/dashboard/app.js', '/status']) assert.equal((await rawRequest(url(path))).status, 401, path);
  });

  it('the right token: a 256-bit HttpOnly SameSite=Strict cookie (not Secure over plain HTTP) that opens the dashboard', async () => {
    const r = await login(TOKEN);
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/dashboard');
    const cookie = cookieOf(r)!;
    assert.match(cookie, /^lpgw_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
    assert.ok(!cookie.includes(TOKEN));
    const id = session(r);
    assert.equal(Buffer.from(id, 'base64url').length, 32);
    assert.equal((await rawRequest(url('/dashboard'), { headers: withCookie(id) })).status, 200);
    assert.equal((await rawRequest(url('/dashboard/state.json'), { headers: withCookie(id) })).status, 200);
    // the cookie opens the dashboard's reads only: the control API still wants the token
    assert.equal((await rawRequest(url('/status'), { headers: withCookie(id) })).status, 401);
    assert.equal((await rawRequest(url('/setLogLevel'), { method: 'POST', headers: { ...FORM, ...withCookie(id) }, body: 'loglevel=6' })).status, 401);
    // logout ends it
    const out = await rawRequest(url('/dashboard/logout'), { method: 'POST', headers: withCookie(id) });
    assert.equal(out.status, 303);
    assert.match(cookieOf(out)!, /^lpgw_session=; .*Max-Age=0/);
    assert.equal((await rawRequest(url('/dashboard/state.json'), { headers: withCookie(id) })).status, 401);
    assert.equal((await rawRequest(url('/dashboard/logout'))).status, 405, 'logout is POST only');
  });

  it('a wrong token: 401, the form again, no cookie; the token never appears in an answer or a log line', async () => {
    for (const body of [new URLSearchParams({ token: 'nope' }).toString(), '', 'token=', `token=${encodeURIComponent(TOKEN)}x`]) {
      const r = await rawRequest(url('/dashboard/login'), { method: 'POST', headers: FORM, body });
      assert.equal(r.status, 401, body);
      assert.equal(cookieOf(r), undefined);
      assert.match(r.text, /Wrong token/);
    }
    clock += 61_000; // past the guessing limit's window
    // the right token, but not as a form
    const json = await rawRequest(url('/dashboard/login'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: TOKEN }),
    });
    assert.equal(json.status, 401);
    // a token in the query string is not read
    const query = await rawRequest(url(`/dashboard/login?token=${encodeURIComponent(TOKEN)}`), { method: 'POST', headers: FORM, body: '' });
    assert.equal(query.status, 401);
    assert.ok(!logged.join('\n').includes(TOKEN));
    const big = await rawRequest(url('/dashboard/login'), { method: 'POST', headers: FORM, body: `token=${'a'.repeat(10_000)}` });
    assert.equal(big.status, 413);
    clock += 61_000; // a fresh window for the next tests
  });

  it('a login posted from another site is refused by the browser rule, with no cookie', async () => {
    const r = await login(TOKEN, crossSite());
    assert.equal(r.status, 403);
    assert.equal(cookieOf(r), undefined);
    const origin = await login(TOKEN, { Origin: 'http://evil.example' });
    assert.equal(origin.status, 403);
    // and a rebinding page's Host on this loopback listener
    const rebind = await login(TOKEN, { Host: 'evil.example' });
    assert.equal(rebind.status, 403);
    assert.equal(cookieOf(rebind), undefined);
  });

  it('a session expires after 12 hours; forged and unknown ids are refused', async () => {
    const id = session(await login(TOKEN));
    clock += 12 * HOUR - 1000;
    assert.equal((await rawRequest(url('/dashboard/state.json'), { headers: withCookie(id) })).status, 200);
    clock += 2000;
    assert.equal((await rawRequest(url('/dashboard/state.json'), { headers: withCookie(id) })).status, 401);
    assert.equal((await rawRequest(url('/dashboard'), { headers: withCookie(id) })).status, 303);
    for (const forged of ['', 'x', 'A'.repeat(43), `${id}x`, id.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))]) {
      assert.equal((await rawRequest(url('/dashboard/state.json'), { headers: withCookie(forged) })).status, 401, forged);
    }
  });

  it('guessing is slowed: after 5 wrong tokens an address gets 429 (even with the right one) until its window ends', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login(`guess-${i}`)).status, 401);
    const limited = await login(TOKEN);
    assert.equal(limited.status, 429);
    assert.equal(cookieOf(limited), undefined);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    clock += 61_000;
    assert.equal((await login(TOKEN)).status, 303);
  });
});

describe('session table and login throttle bounds', () => {
  it('keeps at most `max` sessions, the oldest go first', () => {
    const t = new SessionTable({ max: 3 });
    const ids = [t.create(), t.create(), t.create(), t.create()];
    assert.equal(t.size, 3);
    assert.deepEqual(
      ids.map((id) => t.valid(id)),
      [false, true, true, true],
    );
  });
  it('tracks a bounded number of addresses, and all of them together have a budget', () => {
    let clock = 0;
    const th = new LoginThrottle({ perAddress: 2, total: 5, maxAddresses: 2, now: () => clock });
    th.failed('a');
    th.failed('a');
    assert.ok(th.retryAfterSeconds('a') > 0);
    th.failed('b');
    th.failed('c'); // pushes out a
    assert.equal(th.retryAfterSeconds('a'), 0);
    th.failed('d');
    assert.ok(th.retryAfterSeconds('e') > 0, 'five failures in the window from anywhere: everyone waits');
    clock += 60_000;
    assert.equal(th.retryAfterSeconds('e'), 0);
  });
  it('an IPv6 guesser counts by its /64: a fresh address in it for each guess gains nothing', () => {
    const th = new LoginThrottle({ perAddress: 5, total: 50, now: () => 0 });
    for (let i = 1; i <= 5; i++) th.failed(`2001:db8:1:2::${i.toString(16)}`);
    assert.ok(th.retryAfterSeconds('2001:db8:1:2:ffff::9') > 0, 'another address of the same /64 waits');
    assert.equal(th.retryAfterSeconds('2001:db8:1:3::1'), 0, 'the next /64 is another client');
    th.succeeded('2001:db8:1:2::77');
    assert.equal(th.retryAfterSeconds('2001:db8:1:2::1'), 0, 'a login from the /64 clears it');
  });
});

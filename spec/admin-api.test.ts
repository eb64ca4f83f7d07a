import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  addProvider,
  adminRequest,
  codexAuthJson,
  ensureBuilt,
  officialTokens,
  postResponses,
  runCli,
  startGateway,
  tempHome,
  TestClock,
  turn,
} from './_helpers.js';
import { startMockUpstream, usage as mockUsage } from './mock-upstream.js';

/** Reads an SSE response until `until` says the text so far is enough. */
function readEvents(url: string, token: string, until: (text: string) => boolean): { done: Promise<string>; req: http.ClientRequest } {
  let req!: http.ClientRequest;
  const done = new Promise<string>((resolve, reject) => {
    req = http.get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
        if (until(text)) resolve(text);
      });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return { done, req };
}

describe('admin API', async () => {
  const home = await tempHome();
  const clock = new TestClock();
  const windows = path.join(home.dir, 'windows');
  await fs.mkdir(windows);
  await fs.writeFile(path.join(windows, 'index.html'), '<!doctype html><title>AI Gate popovers</title><script type="module" src="app.js"></script>');
  await fs.writeFile(path.join(windows, 'app.js'), 'console.log("popover")');
  const upstream = await startMockUpstream({ tag: 'A', rateLimits: { primaryUsed: 42, secondaryUsed: 81 } });
  const second = await startMockUpstream({ tag: 'B' });
  after(() => Promise.all([upstream.close(), second.close()]));
  const gw = await startGateway(home, { clock, admin: { windowsDir: windows, heartbeatMs: 30 } });
  const api = (method: string, p: string, body?: unknown) => adminRequest(gw, method, `/aigate/api${p}`, { body });

  it('creates the admin token once, 0600', async () => {
    const file = path.join(home.paths.data, 'admin-token');
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    assert.ok((await fs.readFile(file, 'utf8')).trim().length >= 40);
  });

  it('adds a third-party account and lists it without its key', async () => {
    const added = await api('POST', '/accounts', { name: 'alpha', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-alpha-admin-0123456789' });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.json.name, 'alpha');
    assert.equal(added.json.secret, 'set');
    assert.equal(added.json.status, 'ok');
    assert.equal(added.json.active, true);
    await addProvider(gw, 'beta', `${second.url}/v1`);
    const list = await api('GET', '/accounts');
    assert.deepEqual(list.json.map((a: { name: string }) => a.name), ['alpha', 'beta']);
    assert.doesNotMatch(list.text, /sk-alpha-admin/);
  });

  it('says what to fix when the input is wrong', async () => {
    const missing = await api('POST', '/accounts', { name: 'x', baseUrl: 'https://example.com/v1' });
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.code, 'invalid_input');
    assert.match(missing.json.error.message, /apiKey/);
    const extra = await api('POST', '/accounts', { name: 'x', baseUrl: 'https://example.com/v1', apiKey: 'k', colour: 'red' });
    assert.match(extra.json.error.message, /colour/);
    const badUrl = await api('POST', '/accounts', { name: 'x', baseUrl: 'ftp://example.com', apiKey: 'k' });
    assert.equal(badUrl.status, 400);
    assert.match(badUrl.json.error.message, /http:\/\/ or https:\/\//);
    const duplicate = await api('POST', '/accounts', { name: 'alpha', baseUrl: 'https://example.com/v1', apiKey: 'k' });
    assert.equal(duplicate.status, 409);
    const notJson = await adminRequest(gw, 'POST', '/aigate/api/accounts', { body: '{"name":', headers: { 'content-type': 'application/json' } });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.error.code, 'invalid_json');
    const form = await adminRequest(gw, 'POST', '/aigate/api/accounts', { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415);
    const unknown = await api('POST', '/accounts/nobody/use');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /no account named "nobody" \(accounts: alpha, beta\)/);
    const route = await api('GET', '/nothing-here');
    assert.equal(route.status, 404);
    const method = await api('PUT', '/status');
    assert.equal(method.status, 405);
    assert.equal(method.headers.allow, 'GET');
  });

  it('imports the Codex login from auth.json, once', async () => {
    const tokens = officialTokens({ accountId: 'acct-imp', email: 'imp@example.com' });
    const file = path.join(home.dir, 'auth.json');
    await fs.writeFile(file, codexAuthJson(tokens), { mode: 0o600 });
    const first = await api('POST', '/accounts/import', { authFile: file, name: 'work' });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.kind, 'official');
    assert.equal(first.json.email, 'imp@example.com');
    const again = await api('POST', '/accounts/import', { authFile: file });
    assert.equal(again.status, 200);
    assert.equal(again.json.name, 'work');
    const none = await api('POST', '/accounts/import', { authFile: path.join(home.dir, 'missing.json') });
    assert.equal(none.status, 404);
    assert.match(none.json.error.message, /codex login/);
  });

  it('orders, uses, disables, enables and removes accounts', async () => {
    const ordered = await api('POST', '/accounts/order', { names: ['beta'] });
    assert.deepEqual(ordered.json.map((a: { name: string }) => a.name), ['beta', 'alpha', 'work']);
    assert.equal((await api('POST', '/accounts/beta/use')).json.active, true);
    assert.equal((await api('GET', '/status')).json.active, 'beta');
    const disabled = await api('POST', '/accounts/work/disable');
    assert.equal(disabled.json.enabled, false);
    assert.equal(disabled.json.status, 'disabled');
    assert.equal((await api('POST', '/accounts/work/enable')).json.enabled, true);
    const removed = await api('DELETE', '/accounts/work');
    assert.equal(removed.json.removed, 'work');
    assert.deepEqual(removed.json.accounts.map((a: { name: string }) => a.name), ['beta', 'alpha']);
    await api('POST', '/accounts/alpha/use');
  });

  it('reads and changes settings', async () => {
    assert.deepEqual((await api('GET', '/settings')).json, { failover: true, quotaThreshold: null, notifications: true, statsRetentionDays: 90, routing: 'order', upstreamProxy: 'system' });
    const changed = await api('PATCH', '/settings', { quotaThreshold: 90, notifications: false });
    assert.equal(changed.json.quotaThreshold, 90);
    assert.equal(gw.store.data.settings.notifications, false);
    assert.equal((await api('PATCH', '/settings', { quotaThreshold: null })).json.quotaThreshold, null);
    const bad = await api('PATCH', '/settings', { statsRetentionDays: 0 });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /statsRetentionDays/);
    await api('PATCH', '/settings', { notifications: true });
  });

  it('keeps an upstream proxy password sealed and shows it masked; a bad proxy changes nothing', async () => {
    const set = await api('PATCH', '/settings', { upstreamProxy: 'http://proxy-user:admin-proxy-pass@127.0.0.1:3128' });
    assert.equal(set.status, 200);
    assert.equal(set.json.upstreamProxy, 'http://proxy-user:***@127.0.0.1:3128');
    assert.doesNotMatch(JSON.stringify(gw.store.data), /admin-proxy-pass/);
    const bad = await api('PATCH', '/settings', { upstreamProxy: 'ftp://proxy-user:other-pass@h:21', failover: false });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\//);
    assert.doesNotMatch(bad.text, /other-pass/);
    assert.equal(gw.store.data.settings.failover, true, 'nothing of a refused change is kept');
    assert.equal((await api('GET', '/settings')).json.upstreamProxy, 'http://proxy-user:***@127.0.0.1:3128');
    assert.equal((await api('PATCH', '/settings', { upstreamProxy: 'system' })).json.upstreamProxy, 'system');
    assert.equal(gw.store.data.settings.upstreamProxy, undefined);
  });

  it('edits an account: name, base URL and its own proxy, masked in every answer', async () => {
    const edited = await api('PATCH', '/accounts/beta', { upstreamProxy: 'socks5h://u:acct-proxy-pass@127.0.0.1:1080' });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.json.upstreamProxy, 'socks5h://u:***@127.0.0.1:1080');
    assert.doesNotMatch((await api('GET', '/accounts')).text, /acct-proxy-pass/);
    const renamed = await api('PATCH', '/accounts/beta', { name: 'beta2' });
    assert.equal(renamed.json.name, 'beta2');
    const taken = await api('PATCH', '/accounts/beta2', { name: 'alpha' });
    assert.equal(taken.status, 409);
    const back = await api('PATCH', '/accounts/beta2', { name: 'beta', upstreamProxy: 'default' });
    assert.equal(back.json.upstreamProxy, 'default');
    assert.equal(gw.store.data.accounts.find((a) => a.name === 'beta')!.upstreamProxy, undefined);
  });

  it('reports status', async () => {
    const status = await api('GET', '/status');
    assert.equal(status.status, 200);
    assert.match(status.json.version, /^\d+\.\d+\.\d+/);
    assert.equal(status.json.url, gw.gateway.url);
    assert.equal(status.json.failover, true);
    assert.equal(status.json.active, 'alpha');
    assert.deepEqual(status.json.proxy, { enabled: false });
    assert.equal(status.json.accounts.length, 2);
  });

  it('serves stats with the tokens the upstream reported and the latest quota', async () => {
    const recorded = once(gw.bus, 'request');
    assert.equal((await postResponses(gw.base, turn('count me'))).status, 200);
    await recorded;
    const stats = await api('GET', '/stats?since=1h&by=model');
    assert.equal(stats.status, 200, stats.text);
    const row = stats.json.rows.find((r: { key: string }) => r.key === 'gpt-5.1-codex');
    assert.equal(row.requests, 1);
    assert.equal(row.inputTokens, mockUsage.input_tokens);
    assert.equal(row.outputTokens, mockUsage.output_tokens);
    assert.equal(row.cachedTokens, mockUsage.input_tokens_details.cached_tokens);
    assert.equal(row.reasoningTokens, mockUsage.output_tokens_details.reasoning_tokens);
    const alpha = stats.json.quota.find((q: { account: string }) => q.account === 'alpha');
    assert.equal(alpha.quota.primary.usedPercent, 42);
    assert.match(alpha.quotaLabel, /5h 42% · week 81%/);
    const recent = await api('GET', '/stats/recent?limit=1');
    assert.equal(recent.json.records.length, 1);
    assert.equal(recent.json.records[0].usage.totalTokens, mockUsage.total_tokens);
    assert.equal((await api('GET', '/stats?by=colour')).status, 400);
    assert.match((await api('GET', '/stats?since=yesterday')).json.error.message, /24h/);
    assert.equal((await api('GET', '/stats/recent?limit=0')).status, 400);
  });

  it('streams failovers and account state changes as events, with heartbeats, until the client leaves', async () => {
    const token = (await fs.readFile(path.join(home.paths.data, 'admin-token'), 'utf8')).trim();
    const stream = readEvents(`${gw.gateway.url}/aigate/api/events`, token, (t) => t.includes('event: failover') && t.includes('event: account-state') && t.includes(': heartbeat'));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(gw.admin.events.size, 1);
    upstream.plans.push({ kind: 'usage-limit', resetsAt: Math.floor(clock.now() / 1000) + 3600 });
    assert.equal((await postResponses(gw.base, turn('over'))).status, 200);
    const text = await stream.done;
    const failover = text.split('\n\n').find((b) => b.startsWith('event: failover'))!;
    const data = JSON.parse(failover.split('\n')[1]!.slice(6));
    assert.equal(data.from, 'alpha');
    assert.equal(data.to, 'beta');
    assert.equal(data.reason, 'usage-limit');
    const state = text.split('\n\n').find((b) => b.startsWith('event: account-state'))!;
    assert.deepEqual(JSON.parse(state.split('\n')[1]!.slice(6)).to, 'cooling');
    stream.req.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(gw.admin.events.size, 0, 'the stream closed with its client');
  });

  it('serves the popover shell only with a session, and its assets to anyone, with a strict CSP', async () => {
    const anonymous = await adminRequest(gw, 'GET', '/aigate/', { token: null });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.text, /aigate open/);
    const shell = await adminRequest(gw, 'GET', '/aigate/');
    assert.equal(shell.status, 200);
    assert.match(shell.text, /AI Gate popovers/);
    assert.equal(shell.headers['content-security-policy'], "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    assert.equal(shell.headers['x-frame-options'], 'DENY');
    assert.equal(shell.headers['referrer-policy'], 'no-referrer');
    const script = await adminRequest(gw, 'GET', '/aigate/app.js', { token: null });
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /javascript/);
    assert.equal((await adminRequest(gw, 'GET', '/aigate/missing.js', { token: null })).status, 404);
    assert.equal((await adminRequest(gw, 'GET', '/aigate/..%2Fadmin-token.js', { token: null })).status, 404);
  });

  it('turns a login link into a session cookie once, and not after two minutes', async () => {
    const link = await api('POST', '/login-links');
    assert.equal(link.status, 201);
    const url = new URL(link.json.url);
    assert.equal(url.origin, gw.gateway.url);
    assert.equal(url.pathname, '/aigate/login');
    const login = await adminRequest(gw, 'GET', url.pathname + url.search, { token: null });
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, '/aigate/');
    const cookie = String(login.headers['set-cookie']);
    assert.match(cookie, /aigate_session=[^;]+; path=\/aigate; samesite=strict; httponly/i);
    const session = cookie.split(';')[0]!;
    const withCookie = await adminRequest(gw, 'GET', '/aigate/api/status', { token: null, headers: { cookie: session } });
    assert.equal(withCookie.status, 200);
    const reused = await adminRequest(gw, 'GET', url.pathname + url.search, { token: null });
    assert.equal(reused.status, 401);
    assert.match(reused.text, /already used or has expired/);

    const late = new URL((await api('POST', '/login-links')).json.url);
    clock.advance(2 * 60_000 + 1);
    assert.equal((await adminRequest(gw, 'GET', late.pathname + late.search, { token: null })).status, 401);
    assert.equal((await adminRequest(gw, 'GET', '/aigate/api/status', { token: null, headers: { cookie: 'aigate_session=forged' } })).status, 401);
  });

  describe('aigate open', () => {
    before(ensureBuilt);
    const listen = () => gw.gateway.url.replace('http://', '');

    it('prints a one-time link from the running gateway', async () => {
      const res = await runCli(['open', '--print', '--listen', listen()], home.env);
      assert.equal(res.code, 0, res.stderr);
      const url = new URL(res.stdout.trim());
      assert.equal((await adminRequest(gw, 'GET', url.pathname + url.search, { token: null })).status, 303);
      assert.equal((await adminRequest(gw, 'GET', url.pathname + url.search, { token: null })).status, 401);
    });

    it('prints the link when no browser can be started', async () => {
      const res = await runCli(['open', '--listen', listen()], { ...home.env, PATH: path.join(home.dir, 'empty-bin') });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /Could not open a browser \(\S+ not found\)/);
      assert.match(res.stdout, /http:\/\/127\.0\.0\.1:\d+\/aigate\/login\?code=/);
    });

    it('says how to start the gateway when none answers', async () => {
      const res = await runCli(['open', '--print', '--listen', '127.0.0.1:1'], home.env);
      assert.equal(res.code, 1);
      assert.match(res.stderr, /no AI Gate gateway answers on http:\/\/127\.0\.0\.1:1: start it with `aigate serve`/);
    });
  });
});

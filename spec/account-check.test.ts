import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { credentials, upsertOfficial } from '../src/state/accounts.js';
import { Vault } from '../src/state/secrets.js';
import { Store } from '../src/state/store.js';
import { usageReport } from '../src/state/auth/usage.js';
import { ensureBuilt, runCli, tempHome, type TempHome } from './_helpers.js';
import { CLIENT_ID, startMockAuth, type IssuedTokens, type MockAuth } from './mock-auth.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';

let auth: MockAuth;
let upstream: MockUpstream;
let backend: { url: string; close(): Promise<void>; seen: string[] };
const resetAt = Math.floor(Date.now() / 1000) + 2 * 3600;

before(async () => {
  await ensureBuilt();
  auth = await startMockAuth({ accountId: 'acct-u', userId: 'user-u', email: 'u@example.com', plan: 'plus' });
  upstream = await startMockUpstream({ tag: 'chatgpt', authorize: (h) => !!h && auth.isLiveAccessToken(h), rateLimits: { primaryUsed: 12, secondaryUsed: 34 } });
  // The ChatGPT backend's usage endpoint, in the shape Codex's /status reads.
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['chatgpt-account-id']}`);
    if (!auth.isLiveAccessToken(String(req.headers.authorization ?? ''))) {
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end('{"detail":"unauthorized"}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        plan_type: 'plus',
        rate_limit: {
          allowed: true,
          limit_reached: false,
          primary_window: { used_percent: 42, limit_window_seconds: 18_000, reset_after_seconds: 7200, reset_at: resetAt },
          secondary_window: { used_percent: 81, limit_window_seconds: 604_800, reset_after_seconds: 400_000 },
        },
        credits: { has_credits: false, unlimited: false, balance: '0' },
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  backend = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => server.close(() => r())) };
});
after(async () => {
  await auth.close();
  await upstream.close();
  await backend.close();
});

async function homeWith(tokens: IssuedTokens): Promise<TempHome & { store: Store; vault: Vault }> {
  const home = await tempHome();
  Object.assign(home.env, { AIGATE_AUTH_ISSUER: auth.url, AIGATE_CHATGPT_BASE_URL: upstream.url, AIGATE_CHATGPT_BACKEND_URL: backend.url });
  const store = await Store.open(home.paths);
  after(() => store.close());
  const vault = await Vault.open(home.paths, null);
  await upsertOfficial(store, vault, tokens, 'main');
  return { ...home, store, vault };
}

describe('aigate accounts usage', () => {
  it('shows the 5-hour and weekly windows and records them as the account\'s quota', async () => {
    const home = await homeWith(auth.issue());
    const res = await runCli(['accounts', 'usage', '--json'], home.env);
    assert.equal(res.code, 0, res.stderr);
    const [row] = JSON.parse(res.stdout);
    assert.equal(row.account, 'main');
    assert.equal(row.plan, 'plus');
    assert.deepEqual(row.primary, { usedPercent: 42, windowMinutes: 300, resetsAt: new Date(resetAt * 1000).toISOString() });
    assert.equal(row.secondary.usedPercent, 81);
    assert.equal(row.secondary.windowMinutes, 10_080);
    assert.equal(backend.seen.at(-1), 'GET /wham/usage acct-u');
    await home.store.update(() => undefined);
    assert.equal(home.store.data.accounts[0]!.quota?.primary?.usedPercent, 42);
    const table = await runCli(['accounts', 'usage'], home.env);
    assert.match(table.stdout, /^NAME\s+PLAN\s+5 HOURS\s+WEEK\nmain\s+plus\s+42% · resets \S+( \S+)?\s+81% · resets /m);
  });

  it('refreshes an expired token first and keeps the rotated refresh token', async () => {
    const initial = auth.issue({ accessTtlSeconds: -60 });
    const home = await homeWith(initial);
    const res = await runCli(['accounts', 'usage', 'main'], home.env);
    assert.equal(res.code, 0, res.stderr);
    await home.store.update(() => undefined);
    const stored = credentials(home.vault, home.store.data.accounts[0]!) as { refreshToken: string };
    assert.equal(auth.refreshCalls.at(-1)!.token, initial.refreshToken);
    assert.equal(stored.refreshToken, auth.issued.at(-1)!.refreshToken);
  });

  it('reads reset times given only as seconds from now', () => {
    const now = 1_000_000;
    const r = usageReport({ rate_limit: { primary_window: { used_percent: '5', reset_after_seconds: 60 }, secondary_window: null } }, now);
    assert.deepEqual(r.quota, { primary: { usedPercent: 5, windowMinutes: undefined, resetsAt: now + 60_000 }, secondary: undefined, updatedAt: now });
  });
});

describe('aigate accounts test', () => {
  it('reports ok after one tiny streamed request through the account', async () => {
    const home = await homeWith(auth.issue());
    const before = upstream.seen.length;
    const res = await runCli(['accounts', 'test', 'main'], home.env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^main: ok \(\d+ ms\)$/m);
    const sent = upstream.seen.slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.path, '/responses');
    assert.equal(sent[0]!.json.stream, true);
    assert.equal(sent[0]!.headers['chatgpt-account-id'], 'acct-u');
  });

  it('reports when the account is out of quota, with the reset time', async () => {
    const home = await homeWith(auth.issue());
    upstream.plans.push({ kind: 'usage-limit', resetsAt: resetAt });
    const res = await runCli(['accounts', 'test', 'main', '--json'], home.env);
    assert.equal(res.code, 1);
    const out = JSON.parse(res.stdout);
    assert.equal(out.result, 'quota');
    assert.equal(out.resetsAt, new Date(resetAt * 1000).toISOString());
  });

  it('reports "needs sign-in" when the refresh token is dead', async () => {
    const dead = auth.issue({ accessTtlSeconds: -60 });
    await fetch(`${auth.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: dead.refreshToken }) });
    const home = await homeWith(dead);
    const res = await runCli(['accounts', 'test', 'main'], home.env);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /main: needs sign-in — main needs sign-in \(its refresh token was already used elsewhere\); run `aigate accounts login --name main`/);
    const list = await runCli(['accounts', 'list'], home.env);
    assert.match(list.stdout, /main\s+official\s+needs sign-in/);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { credentials, upsertOfficial } from '../src/state/accounts.js';
import { CodexAuthSync } from '../src/state/auth/codex-auth-sync.js';
import type { TokenRefreshEvent } from '../src/state/events.js';
import { codexAuthFile } from '../src/state/paths.js';
import { postResponses, startGateway, tempHome, turn, type TempHome } from './_helpers.js';
import { authJsonFor, CLIENT_ID, startMockAuth, type IssuedTokens, type MockAuth, type RefreshCall } from './mock-auth.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';

let auth: MockAuth;
let upstream: MockUpstream;
before(async () => {
  auth = await startMockAuth({ accountId: 'acct-s', userId: 'user-s', email: 's@example.com' });
  upstream = await startMockUpstream({ tag: 'chatgpt', authorize: (h) => !!h && auth.isLiveAccessToken(h) });
});
after(async () => {
  await auth.close();
  await upstream.close();
});

async function sharedSetup(tokens: IssuedTokens, authJson = authJsonFor(tokens)) {
  const home: TempHome = await tempHome();
  Object.assign(home.env, { AIGATE_AUTH_ISSUER: auth.url, AIGATE_CHATGPT_BASE_URL: upstream.url, AIGATE_SCHEDULER_INTERVAL: 'off' });
  const file = codexAuthFile(home.paths);
  await fs.writeFile(file, authJson, { mode: 0o600 });
  const gw = await startGateway(home);
  const { account } = await upsertOfficial(gw.store, gw.vault, { ...tokens, lastRefresh: JSON.parse(authJson).last_refresh }, 'shared');
  const stored = () => credentials(gw.vault, gw.store.data.accounts.find((a) => a.id === account.id)!) as { accessToken: string; refreshToken: string };
  return { home, gw, file, account, stored };
}

/** What Codex does when it refreshes: spend the token, then rewrite auth.json in place (not atomically). */
async function codexRefreshes(file: string, refreshToken: string, write = true): Promise<IssuedTokens & { write(): Promise<void> }> {
  const res = await fetch(`${auth.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'codex_exec/test' }, body: JSON.stringify({ client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: refreshToken }) });
  assert.equal(res.status, 200);
  const fresh = auth.issued.at(-1)!;
  const writeIt = async () => {
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    doc.tokens = { ...doc.tokens, id_token: fresh.idToken, access_token: fresh.accessToken, refresh_token: fresh.refreshToken };
    doc.last_refresh = new Date().toISOString();
    const handle = await fs.open(file, 'w');
    await handle.writeFile(JSON.stringify(doc, null, 2));
    await handle.close();
  };
  if (write) await writeIt();
  return { ...fresh, write: writeIt };
}

const nextEvent = (gw: Awaited<ReturnType<typeof sharedSetup>>['gw'], outcome: TokenRefreshEvent['outcome']) =>
  new Promise<TokenRefreshEvent>((resolve) => {
    const on = (e: TokenRefreshEvent) => e.outcome === outcome && (gw.bus.off('token-refresh', on), resolve(e));
    gw.bus.on('token-refresh', on);
  });

describe('tokens shared with Codex', () => {
  it('writes refreshed tokens back to auth.json, keeping every other field and mode 0600', async () => {
    const initial = auth.issue({ accessTtlSeconds: -60 });
    const original = authJsonFor(initial, { agent_identity: 'kept', custom: { nested: [1, 'two'] } });
    const { file, gw, stored } = await sharedSetup(initial, original);
    assert.equal((await postResponses(gw.base, turn('refresh'))).status, 200);
    const fresh = auth.issued.at(-1)!;
    const after = JSON.parse(await fs.readFile(file, 'utf8'));
    const before = JSON.parse(original);
    assert.deepEqual(after.tokens, { id_token: fresh.idToken, access_token: fresh.accessToken, refresh_token: fresh.refreshToken, account_id: 'acct-s' });
    assert.ok(Date.parse(after.last_refresh) >= Date.parse(before.last_refresh));
    for (const key of ['auth_mode', 'OPENAI_API_KEY', 'agent_identity', 'custom']) assert.deepEqual(after[key], before[key], key);
    assert.deepEqual(Object.keys(after), Object.keys(before));
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    assert.equal(stored().refreshToken, fresh.refreshToken);
    assert.ok(auth.isLiveRefreshToken(after.tokens.refresh_token));
  });

  it('leaves auth.json alone when it holds another user of the same workspace', async () => {
    const mine = auth.issue({ accessTtlSeconds: -60 });
    const teammate = await startMockAuth({ accountId: 'acct-s', userId: 'user-teammate' });
    after(() => teammate.close());
    const theirs = authJsonFor(teammate.issue());
    const home = await tempHome();
    Object.assign(home.env, { AIGATE_AUTH_ISSUER: auth.url, AIGATE_CHATGPT_BASE_URL: upstream.url, AIGATE_SCHEDULER_INTERVAL: 'off' });
    await fs.writeFile(codexAuthFile(home.paths), theirs, { mode: 0o600 });
    const gw = await startGateway(home);
    await upsertOfficial(gw.store, gw.vault, mine, 'mine');
    assert.equal((await postResponses(gw.base, turn('refresh'))).status, 200);
    assert.equal(await fs.readFile(codexAuthFile(home.paths), 'utf8'), theirs);
    // Codex's locks are taken only for a login they share: none was left in Codex's home.
    assert.deepEqual((await fs.readdir(home.paths.codexHome)).filter((f) => f.endsWith('.lock')), []);
  });

  it('takes the tokens Codex refreshed on its own instead of spending a dead one', async () => {
    const initial = auth.issue();
    const { file, gw, stored } = await sharedSetup(initial);
    const adopted = nextEvent(gw, 'adopted');
    const codex = await codexRefreshes(file, initial.refreshToken);
    await adopted;
    assert.equal(stored().refreshToken, codex.refreshToken);
    // A later refresh (forced by a 401) spends Codex's live token: no reuse anywhere.
    const reuses = auth.reuseAttempts();
    upstream.plans.push({ kind: 'status', status: 401, body: { error: { code: 'token_expired' } } });
    assert.equal((await postResponses(gw.base, turn('after codex'))).status, 200);
    assert.equal(auth.refreshCalls.at(-1)!.token, codex.refreshToken);
    assert.equal(auth.reuseAttempts(), reuses);
    assert.equal(JSON.parse(await fs.readFile(file, 'utf8')).tokens.refresh_token, auth.issued.at(-1)!.refreshToken);
  });

  it('when both refresh at once and Codex wins, takes Codex\'s tokens instead of signing out', async () => {
    const initial = auth.issue({ accessTtlSeconds: -60 });
    const { file, gw, account, stored } = await sharedSetup(initial);
    // Codex has spent the token but not written auth.json yet when AI Gate tries the same token.
    const codex = await codexRefreshes(file, initial.refreshToken, false);
    const reused = new Promise<RefreshCall>((resolve) => (auth.onRefresh = (c) => c.outcome === 'reused' && resolve(c)));
    after(() => (auth.onRefresh = undefined));
    const request = postResponses(gw.base, turn('race'));
    await reused;
    await codex.write();
    const res = await request;
    assert.equal(res.status, 200);
    assert.equal(gw.store.data.accounts.find((a) => a.id === account.id)!.health.state, 'ok');
    assert.equal(stored().refreshToken, codex.refreshToken);
    assert.equal(upstream.seen.at(-1)!.headers.authorization, `Bearer ${codex.accessToken}`);
    assert.ok(auth.isLiveRefreshToken(JSON.parse(await fs.readFile(file, 'utf8')).tokens.refresh_token));
  });

  it('brings a signed-out account back when Codex signs in to it again', async () => {
    const initial = auth.issue();
    const { file, gw, account } = await sharedSetup(initial);
    await gw.store.update((d) => (d.accounts.find((a) => a.id === account.id)!.health = { state: 'needs-login', reason: 'test' }));
    const adopted = nextEvent(gw, 'adopted');
    await fs.writeFile(file, authJsonFor(auth.issue())); // `codex login`
    await adopted;
    assert.equal(gw.store.data.accounts.find((a) => a.id === account.id)!.health.state, 'ok');
    assert.equal((await postResponses(gw.base, turn('back'))).status, 200);
  });

  it('reads auth.json while Codex is still writing it', async () => {
    const home = await tempHome();
    const file = codexAuthFile(home.paths);
    const full = authJsonFor(auth.issue());
    await fs.writeFile(file, full.slice(0, 20)); // Codex truncates, then writes
    setTimeout(() => void fs.writeFile(file, full), 10);
    const login = await new CodexAuthSync(file).read();
    assert.equal(login?.accountId, 'acct-s');
    assert.equal(login?.userId, 'user-s');
  });
});

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { credentials, upsertOfficial } from '../src/state/accounts.js';
import { EventBus, type GatewayEvents } from '../src/state/events.js';
import { RefreshScheduler, schedulerInterval } from '../src/state/auth/refresh-scheduler.js';
import { Vault } from '../src/state/secrets.js';
import { Store } from '../src/state/store.js';
import { RefreshingTokens } from '../src/state/auth/token-refresh.js';
import { addProvider, filesContaining, postResponses, startGateway, tempHome, TestClock, turn, type TempHome } from './_helpers.js';
import { CLIENT_ID, startMockAuth, type IssuedTokens, type MockAuth } from './mock-auth.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';
import type { AccountRecord } from '../src/state/schema.js';

let auth: MockAuth;
let upstream: MockUpstream;
before(async () => {
  auth = await startMockAuth({ accountId: 'acct-r', userId: 'user-r', email: 'r@example.com' });
  // The ChatGPT backend stand-in accepts only live access tokens the auth server issued.
  upstream = await startMockUpstream({ tag: 'chatgpt', authorize: (h) => !!h && auth.isLiveAccessToken(h) });
});
after(async () => {
  await auth.close();
  await upstream.close();
});

const gatewayEnv = (home: TempHome) => {
  Object.assign(home.env, { AIGATE_AUTH_ISSUER: auth.url, AIGATE_CHATGPT_BASE_URL: upstream.url, AIGATE_SCHEDULER_INTERVAL: 'off' });
  return home;
};

async function addSignedIn(store: Store, vault: Vault, name: string, tokens: IssuedTokens): Promise<AccountRecord> {
  return (await upsertOfficial(store, vault, tokens, name)).account;
}

/** Spends a refresh token the way another program would, so the copy AI Gate holds is dead. */
async function spend(refreshToken: string): Promise<void> {
  const res = await fetch(`${auth.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: refreshToken }) });
  assert.equal(res.status, 200);
}

function record<K extends keyof GatewayEvents>(bus: EventBus, name: K): GatewayEvents[K][0][] {
  const seen: GatewayEvents[K][0][] = [];
  bus.on(name, ((e: GatewayEvents[K][0]) => seen.push(e)) as never);
  return seen;
}

const storedRefreshToken = (vault: Vault, store: Store, id: string) => (credentials(vault, store.data.accounts.find((a) => a.id === id)!) as { refreshToken: string }).refreshToken;

describe('token refresh through the gateway', () => {
  it('20 concurrent requests with an expired access token cause exactly one refresh', async () => {
    const home = gatewayEnv(await tempHome());
    const gw = await startGateway(home);
    const initial = auth.issue({ accessTtlSeconds: -60 });
    await addSignedIn(gw.store, gw.vault, 'main', initial);
    const before = auth.refreshCalls.length;
    const seenBefore = upstream.seen.length;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => postResponses(gw.base, turn(`hi ${i}`))));
    assert.deepEqual(results.map((r) => r.status), Array(20).fill(200));
    assert.equal(auth.refreshCalls.length - before, 1);
    assert.equal(auth.refreshCalls.at(-1)!.token, initial.refreshToken);
    assert.equal(auth.refreshCalls.at(-1)!.reason, 'proactive_expiry', 'the refresh says why, in the words Codex uses');
    const fresh = auth.issued.at(-1)!;
    const sent = upstream.seen.slice(seenBefore).map((s) => s.headers.authorization);
    assert.deepEqual(new Set(sent), new Set([`Bearer ${fresh.accessToken}`]), 'every request went with the new token, none with the expired one');
    assert.deepEqual(await filesContaining(home.dir, [fresh.accessToken, fresh.refreshToken, initial.refreshToken]), []);
  });

  it('keeps the rotated refresh token across a restart right after the refresh', async () => {
    const home = gatewayEnv(await tempHome());
    const first = await startGateway(home);
    const account = await addSignedIn(first.store, first.vault, 'main', auth.issue({ accessTtlSeconds: -60 }));
    assert.equal((await postResponses(first.base, turn('refresh me'))).status, 200);
    const rotated = auth.issued.at(-1)!;
    await first.stop(0);

    const second = await startGateway(home);
    assert.equal(storedRefreshToken(second.vault, second.store, account.id), rotated.refreshToken);
    // The next refresh (forced by a 401) must spend the rotated token; the old one would be "reused".
    const reusesBefore = auth.reuseAttempts();
    upstream.plans.push({ kind: 'status', status: 401, body: { error: { message: 'expired', code: 'token_expired' } } });
    assert.equal((await postResponses(second.base, turn('after restart'))).status, 200);
    assert.equal(auth.refreshCalls.at(-1)!.token, rotated.refreshToken);
    assert.equal(auth.refreshCalls.at(-1)!.outcome, 'rotated');
    assert.equal(auth.reuseAttempts(), reusesBefore);
  });

  it('moves a 401 on to the next account when the refresh it calls for fails for now', async () => {
    // A token endpoint that is down: the refresh cannot say whether the sign-in still holds.
    const down = http.createServer((_req, res) => res.writeHead(503).end('{"error":"temporarily_unavailable"}'));
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const refused = await startMockUpstream({ tag: 'chatgpt', authorize: () => false });
    const other = await startMockUpstream({ tag: 'B' });
    after(async () => {
      down.close();
      await refused.close();
      await other.close();
    });
    const home = await tempHome();
    Object.assign(home.env, { AIGATE_AUTH_ISSUER: `http://127.0.0.1:${(down.address() as AddressInfo).port}`, AIGATE_CHATGPT_BASE_URL: refused.url, AIGATE_SCHEDULER_INTERVAL: 'off' });
    const gw = await startGateway(home);
    await addSignedIn(gw.store, gw.vault, 'main', auth.issue());
    await addProvider(gw, 'B', `${other.url}/v1`);
    const res = await postResponses(gw.base, turn('go on elsewhere'));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /Hello from B/);
    await gw.health.flush();
    assert.equal(gw.store.data.accounts.find((a) => a.name === 'main')!.health.state, 'degraded');
  });

  it('refreshes once on a 401 and retries the same request with the new token', async () => {
    const home = gatewayEnv(await tempHome());
    const gw = await startGateway(home);
    const initial = auth.issue();
    await addSignedIn(gw.store, gw.vault, 'main', initial);
    const refreshes = auth.refreshCalls.length;
    upstream.plans.push({ kind: 'status', status: 401, body: { error: { message: 'revoked', code: 'token_revoked' } } });
    const seenBefore = upstream.seen.length;
    const res = await postResponses(gw.base, turn('retry me'));
    assert.equal(res.status, 200);
    assert.match(res.text, /Hello from chatgpt/);
    assert.equal(auth.refreshCalls.length - refreshes, 1);
    assert.equal(auth.refreshCalls.at(-1)!.reason, 'unauthorized_recovery');
    const tries = upstream.seen.slice(seenBefore);
    assert.equal(tries.length, 2);
    assert.equal(tries[0]!.headers.authorization, `Bearer ${initial.accessToken}`);
    assert.equal(tries[1]!.headers.authorization, `Bearer ${auth.issued.at(-1)!.accessToken}`);
    assert.deepEqual(tries[1]!.raw, tries[0]!.raw);
  });

  it('refresh_token_reused: the account needs sign-in, the tray hears of it, and the request moves on', async () => {
    const home = gatewayEnv(await tempHome());
    const gw = await startGateway(home);
    const other = await startMockUpstream({ tag: 'backup' });
    after(() => other.close());
    const dead = auth.issue({ accessTtlSeconds: -60 });
    await spend(dead.refreshToken);
    const account = await addSignedIn(gw.store, gw.vault, 'main', dead);
    await addProvider(gw, 'backup', `${other.url}/v1`);
    const states = record(gw.bus, 'account-state');
    const refreshes = record(gw.bus, 'token-refresh');
    const failovers = record(gw.bus, 'failover');

    const res = await postResponses(gw.base, turn('move on'));
    assert.equal(res.status, 200);
    assert.match(res.text, /Hello from backup/);
    assert.equal(auth.refreshCalls.at(-1)!.outcome, 'reused');
    assert.equal(gw.store.data.accounts.find((a) => a.id === account.id)!.health.state, 'needs-login');
    assert.deepEqual(states.map((e) => [e.account, e.to]), [['main', 'needs-login']]);
    assert.equal(refreshes.at(-1)!.outcome, 'needs-login');
    assert.match(refreshes.at(-1)!.reason!, /already used/);
    assert.deepEqual(failovers.map((e) => [e.from, e.to, e.reason]), [['main', 'backup', 'auth']]);

    // Persisted, so the CLI and a restarted gateway see it too; the next request goes straight to the backup.
    await gw.health.flush(); // health changes are written in batches
    const onDisk = await Store.open(home.paths);
    after(() => onDisk.close());
    assert.equal(onDisk.data.accounts.find((a) => a.id === account.id)!.health.state, 'needs-login');
    const calls = auth.refreshCalls.length;
    assert.match((await postResponses(gw.base, turn('again'))).text, /Hello from backup/);
    assert.equal(auth.refreshCalls.length, calls, 'no second attempt with a dead token');
  });

  it('keeps serving with a token that still works when the auth server is briefly down', async () => {
    const home = gatewayEnv(await tempHome());
    const clock = new TestClock();
    const gw = await startGateway(home, { clock });
    const account = await addSignedIn(gw.store, gw.vault, 'main', auth.issue({ accessTtlSeconds: 600 }));
    clock.advance(8 * 60_000); // 2 minutes left: time to refresh, and the token still works
    auth.scripted.push({ status: 503, body: { error: 'temporarily_unavailable' } });
    assert.equal((await postResponses(gw.base, turn('still fine'))).status, 200);
    assert.equal(auth.refreshCalls.at(-1)!.outcome, 'scripted');
    assert.equal(gw.store.data.accounts.find((a) => a.id === account.id)!.health.state, 'ok');
  });
});

describe('refresh without the gateway', () => {
  async function state(home: TempHome, vault: Vault) {
    const store = await Store.open(home.paths);
    after(() => store.close());
    const bus = new EventBus();
    return { store, bus, tokens: new RefreshingTokens({ paths: home.paths, store, vault, bus, issuer: auth.url, codex: null }) };
  }

  it('two processes refreshing the same account spend its refresh token once', async () => {
    const home = await tempHome();
    const vault = Vault.fromKey(Buffer.alloc(32, 7));
    const a = await state(home, vault);
    const b = await state(home, vault);
    const account = await addSignedIn(a.store, vault, 'main', auth.issue({ accessTtlSeconds: -60 }));
    await b.store.update(() => undefined); // b reads the account from disk
    const calls = auth.refreshCalls.length;
    auth.refreshDelayMs = 50;
    try {
      const [x, y] = await Promise.all([a.tokens.secretFor(account), b.tokens.secretFor(b.store.data.accounts[0]!)]);
      assert.equal(x, y);
    } finally {
      auth.refreshDelayMs = 0;
    }
    assert.equal(auth.refreshCalls.length - calls, 1);
  });

  it('the scheduler refreshes accounts whose token expires before the next tick, and only those', async () => {
    const home = await tempHome();
    const vault = Vault.fromKey(Buffer.alloc(32, 9));
    const { store, tokens } = await state(home, vault);
    const soon = await addSignedIn(store, vault, 'soon', auth.issue({ accessTtlSeconds: 8 * 60 }));
    const otherAuth = await startMockAuth({ accountId: 'acct-later', userId: 'user-later' });
    after(() => otherAuth.close());
    await addSignedIn(store, vault, 'later', otherAuth.issue({ accessTtlSeconds: 3600 }));
    const calls = auth.refreshCalls.length;
    await new RefreshScheduler(tokens, store, 5 * 60_000).tick();
    assert.equal(auth.refreshCalls.length - calls, 1);
    assert.equal(storedRefreshToken(vault, store, soon.id), auth.issued.at(-1)!.refreshToken);
  });

  it('reads AIGATE_SCHEDULER_INTERVAL', () => {
    assert.equal(schedulerInterval(undefined), 300_000);
    assert.equal(schedulerInterval('90s'), 90_000);
    assert.equal(schedulerInterval('2m'), 120_000);
    assert.equal(schedulerInterval('1h'), 3_600_000);
    assert.equal(schedulerInterval('45'), 45_000);
    assert.equal(schedulerInterval('off'), 0);
    assert.throws(() => schedulerInterval('soon'), /AIGATE_SCHEDULER_INTERVAL="soon" is not a duration/);
  });
});

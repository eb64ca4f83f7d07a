import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { adminTokenFile } from '../src/state/paths.js';
import { completeDeviceLogin, requestDeviceCode } from '../src/state/auth/device-login.js';
import { startLogin } from '../src/state/auth/oauth.js';
import { Store } from '../src/state/store.js';
import { ensureBuilt, filesContaining, startCli, startGateway, tempHome } from './_helpers.js';
import { playBrowser, startMockAuth, type MockAuth } from './mock-auth.js';

let auth: MockAuth;
before(async () => {
  auth = await startMockAuth({ accountId: 'acct-login', userId: 'user-login', email: 'ada@example.com', plan: 'team' });
  await ensureBuilt();
});
after(() => auth.close());

const allTokens = () => auth.issued.flatMap((t) => [t.accessToken, t.refreshToken, t.idToken]);

describe('browser sign-in (PKCE)', () => {
  it('asks the issuer for exactly what Codex asks for', async () => {
    const login = await startLogin({ issuer: auth.url, ports: [0] });
    after(() => login.cancel());
    const url = new URL(login.url);
    assert.equal(`${url.origin}${url.pathname}`, `${auth.url}/oauth/authorize`);
    const q = url.searchParams;
    assert.equal(q.get('client_id'), 'app_EMoamEEZ73f0CkXaXp7hrann');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('scope'), 'openid profile email offline_access');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(q.get('id_token_add_organizations'), 'true');
    assert.equal(q.get('codex_cli_simplified_flow'), 'true');
    assert.match(q.get('state')!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(q.get('redirect_uri'), `http://localhost:${login.port}/auth/callback`);
  });

  it('rejects a callback with the wrong state and still completes with the right one', async () => {
    const login = await startLogin({ issuer: auth.url, ports: [0] });
    let forged = '';
    const wrong = await playBrowser(login.url, (cb) => {
      forged = cb.searchParams.get('code')!;
      cb.searchParams.set('state', 'not-the-state');
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.text, /State mismatch/);
    // The forged callback did not end the sign-in: the real one still goes through.
    const ok = await playBrowser(login.url);
    assert.equal(ok.status, 200);
    const tokens = await login.done;
    assert.equal(tokens.refreshToken, auth.issued.at(-1)!.refreshToken);
    assert.ok(forged);
  });

  it('falls back to another port when the callback port is taken', async () => {
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    after(() => blocker.close());
    const taken = (blocker.address() as AddressInfo).port;
    const login = await startLogin({ issuer: auth.url, ports: [taken, 0] });
    after(() => login.cancel());
    assert.notEqual(login.port, taken);
    assert.equal(new URL(login.url).searchParams.get('redirect_uri'), `http://localhost:${login.port}/auth/callback`);
  });

  it('reports a refused sign-in with the issuer\'s reason', async () => {
    const login = await startLogin({ issuer: auth.url, ports: [0] });
    await playBrowser(login.url, (cb) => {
      cb.searchParams.delete('code');
      cb.searchParams.set('error', 'access_denied');
      cb.searchParams.set('error_description', 'user said no');
    });
    await assert.rejects(login.done, /sign-in was refused: access_denied \(user said no\)/);
  });

  it('`aigate accounts login` stores the account from the id_token claims and no token in plaintext', async () => {
    const home = await tempHome();
    const cli = startCli(['accounts', 'login', '--no-browser', '--name', 'work', '--json'], { ...home.env, AIGATE_AUTH_ISSUER: auth.url, AIGATE_LOGIN_PORT: '0' });
    const [url] = await cli.waitFor(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/);
    assert.equal((await playBrowser(url)).status, 200);
    const result = await cli.result;
    assert.equal(result.code, 0, result.stderr);
    const shown = JSON.parse(result.stdout);
    assert.deepEqual(
      { name: shown.name, kind: shown.kind, email: shown.email, plan: shown.plan, id: shown.chatgptAccountId, user: shown.chatgptUserId, secret: shown.secret },
      { name: 'work', kind: 'official', email: 'ada@example.com', plan: 'team', id: 'acct-login', user: 'user-login', secret: 'set' },
    );
    const store = await Store.open(home.paths);
    after(() => store.close());
    assert.equal(store.data.accounts[0]!.email, 'ada@example.com');
    assert.deepEqual(await filesContaining(home.dir, allTokens()), []);
    assert.doesNotMatch(result.stderr + result.stdout, new RegExp(auth.issued.at(-1)!.refreshToken));
  });

  it('`aigate accounts login --device` signs in with a device code', async () => {
    const home = await tempHome();
    const cli = startCli(['accounts', 'login', '--device', '--name', 'box'], { ...home.env, AIGATE_AUTH_ISSUER: auth.url });
    const [, code] = await cli.waitFor(/enter this code[^\n]*\n\n\s+(\S+)/);
    assert.match((await cli.waitFor(/open (\S+)/))[1]!, new RegExp(`^${auth.url}/codex/device$`));
    auth.approveDevice(code!);
    const result = await cli.result;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /box signed in \(ChatGPT ada@example\.com, team\)/);
    assert.deepEqual(await filesContaining(home.dir, allTokens()), []);
  });

  it('device-code sign-in polls until approved, then exchanges the code', async () => {
    const code = await requestDeviceCode(auth.url);
    const polls = auth.devicePolls;
    const pending = completeDeviceLogin(auth.url, { ...code, intervalMs: 5 });
    while (auth.devicePolls < polls + 2) await new Promise((r) => setTimeout(r, 5));
    auth.approveDevice(code.userCode);
    const tokens = await pending;
    assert.equal(tokens.accessToken, auth.issued.at(-1)!.accessToken);
  });
});

describe('in-app sign-in through the admin API', () => {
  it('POST accounts/login starts a sign-in; GET tells when the account is stored', async () => {
    const home = await tempHome();
    home.env.AIGATE_AUTH_ISSUER = auth.url;
    home.env.AIGATE_LOGIN_PORT = '0';
    home.env.AIGATE_SCHEDULER_INTERVAL = 'off';
    const gw = await startGateway(home);
    const token = (await fs.readFile(adminTokenFile(home.paths), 'utf8')).trim();
    const api = (p: string, init: RequestInit = {}) =>
      fetch(`${gw.gateway.url}/aigate/api${p}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
    const started = await api('/accounts/login', { method: 'POST', body: JSON.stringify({ name: 'popover' }) });
    assert.equal(started.status, 201);
    const { id, url } = await started.json();
    assert.equal((await (await api(`/accounts/login/${id}`)).json()).state, 'pending');
    assert.equal((await playBrowser(url)).status, 200);
    let state: { state: string; account?: { name: string; email: string; secret: string } };
    do state = await (await api(`/accounts/login/${id}`)).json();
    while (state.state === 'pending');
    assert.equal(state.state, 'done');
    assert.deepEqual({ name: state.account!.name, email: state.account!.email, secret: state.account!.secret }, { name: 'popover', email: 'ada@example.com', secret: 'set' });
    assert.equal(gw.store.data.accounts.find((a) => a.name === 'popover')?.chatgptAccountId, 'acct-login');
    assert.equal((await api('/accounts/login/nope')).status, 404);
    assert.equal((await api('/accounts/login', { method: 'POST', body: JSON.stringify({ name: 'bad name' }) })).status, 400);
  });
});

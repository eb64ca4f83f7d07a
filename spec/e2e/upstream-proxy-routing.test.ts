/** Which way each request goes: NO_PROXY and `direct`, a proxy per account, a dead proxy, sign-in and refresh through one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureBuilt, filesContaining, postResponses, startCli, turn } from '../_helpers.js';
import { freePort, startTlsUpstream } from '../_proxies.js';
import { playBrowser, startMockAuth } from '../mock-auth.js';
import { assertLoopbackOnly } from './_codex.js';
import { gatewayHome, PASS, proxyRig } from './_proxy-rig.js';

assertLoopbackOnly();
await ensureBuilt();
const rig = await proxyRig();
/** Waits (bounded) until the gateway has taken in an account added by another process. */
async function waitForAccount(base: string): Promise<void> {
  const since = rig.upstream.seen.length;
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${base}/models`);
    await res.body?.cancel();
    // `/models` with no account at all answers from the gateway alone; with one it asks that account's upstream.
    if (rig.upstream.seen.slice(since).some((s) => s.path.includes('/models'))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the gateway did not take in the new account within 5 s');
}
const from = (n: number) => rig.upstream.seen.slice(n).filter((s) => s.path.endsWith('/responses')).map((s) => s.from);

describe('upstream proxy routing', () => {
  it('honours NO_PROXY and an account set to `direct`, while the environment’s proxy holds for the rest', async () => {
    const key = `${rig.dir}/upstream-key.pem`;
    // An upstream that takes direct connections, under names this gateway (alone) resolves.
    const near = await startTlsUpstream({ cert: rig.cert, key, tag: 'N' });
    const dead = `http://127.0.0.1:${await freePort()}`;
    const home = await gatewayHome(
      rig,
      { HTTPS_PROXY: dead, NO_PROXY: 'localhost,.upstream.test,upstream.test' },
      async (cli) => {
        await cli('accounts', 'add', 'exempt', '--base-url', `https://upstream.test:${near.port}/v1`);
        await cli('accounts', 'add', 'pinned-direct', '--base-url', `https://other.test:${near.port}/v1`);
        await cli('accounts', 'set', 'pinned-direct', '--upstream-proxy', 'direct');
        await cli('accounts', 'add', 'proxied', '--base-url', `https://other.test:${near.port}/v1`);
      },
      rig.hosts,
    );
    for (const name of ['exempt', 'pinned-direct']) {
      const res = await postResponses(`${home.gw.base}/accounts/${name}`, turn('hi'));
      assert.equal(res.status, 200, `${name}: ${res.text}\n${home.gw.log()}`);
      assert.match(res.text, /Hello through N\./);
    }
    assert.deepEqual(near.seen.filter((s) => s.path === '/v1/responses').map((s) => s.from), ['127.0.0.1', '127.0.0.1']);
    const proxied = await postResponses(`${home.gw.base}/accounts/proxied`, turn('hi'));
    assert.equal(proxied.status, 502, 'the one account neither exempt nor direct tried the (dead) proxy');
    assert.match(home.gw.log(), new RegExp(`proxy: proxied: other\\.test:\\d+ through proxy ${dead.replace(/[./]/g, '\\$&')}: ECONNREFUSED`));
    await near.close();
  });

  it('routes each account through its own proxy', async () => {
    const home = await gatewayHome(rig, {}, async (cli) => {
      await cli('accounts', 'add', 'one', '--base-url', rig.upstreamUrl);
      await cli('accounts', 'add', 'two', '--base-url', rig.upstreamUrl);
      await cli('accounts', 'set', 'one', '--upstream-proxy', rig.http.url);
      await cli('accounts', 'set', 'two', '--upstream-proxy', rig.socks.url);
    });
    const n = rig.upstream.seen.length;
    for (const name of ['one', 'two', 'one', 'two']) assert.equal((await postResponses(`${home.gw.base}/accounts/${name}`, turn('hi'))).status, 200, home.gw.log());
    assert.deepEqual(from(n), ['127.0.0.9', '127.0.0.10', '127.0.0.9', '127.0.0.10']);
  });

  it('fails over from a dead proxy and from one that wants credentials, logging each with the proxy masked', async () => {
    const deadPort = await freePort();
    const noCreds = rig.httpAuth.url.replace(`alice:${PASS.tinyproxy}@`, '');
    const wrongCreds = rig.httpAuth.url.replace(PASS.tinyproxy, 'not-the-password');
    const home = await gatewayHome(rig, {}, async (cli) => {
      for (const name of ['dead', 'nocreds', 'wrong', 'live']) await cli('accounts', 'add', name, '--base-url', rig.upstreamUrl);
      await cli('accounts', 'set', 'dead', '--upstream-proxy', `http://carol:dead-pass@127.0.0.1:${deadPort}`);
      await cli('accounts', 'set', 'nocreds', '--upstream-proxy', noCreds);
      await cli('accounts', 'set', 'wrong', '--upstream-proxy', wrongCreds);
      await cli('accounts', 'set', 'live', '--upstream-proxy', rig.http.url);
    });
    const n = rig.upstream.seen.length;
    const res = await postResponses(home.gw.base, turn('hi'));
    assert.equal(res.status, 200, home.gw.log());
    assert.deepEqual(from(n), ['127.0.0.9']);
    const log = home.gw.log();
    assert.match(log, new RegExp(`proxy: dead: upstream\\.test:\\d+ through proxy http://carol:\\*\\*\\*@127\\.0\\.0\\.1:${deadPort}: ECONNREFUSED`));
    assert.match(log, /proxy: nocreds: upstream\.test:\d+ through proxy http:\/\/127\.0\.0\.1:\d+: the proxy asks for credentials \(HTTP 407\)/);
    assert.match(log, /proxy: wrong: upstream\.test:\d+ through proxy http:\/\/alice:\*\*\*@127\.0\.0\.1:\d+: the proxy refused its user name and password \(HTTP 40[17]\)/);
    assert.match(log, /failover: dead → nocreds: connection/);
    assert.doesNotMatch(log, /dead-pass|not-the-password/);

    const doctor = JSON.parse((await home.cli('doctor', '--json')).stdout);
    const byName = (account: string) => doctor.checks.find((c: { message: string }) => c.message.endsWith(`(for ${account})`));
    assert.equal(byName('dead')?.status, 'fail');
    assert.match(byName('dead').message, /ECONNREFUSED/);
    assert.match(byName('nocreds').message, /asks for a user name and password \(HTTP 407\)/);
    assert.match(byName('wrong').message, /refused its user name and password \(HTTP 40[17]\)/);
    assert.equal(byName('live')?.status, 'ok');
    assert.equal(doctor.ok, false);
  });

  it('signs in and refreshes a ChatGPT account through the proxy, against an issuer only the proxy can reach', async () => {
    const auth = await startMockAuth({ accountId: 'acct-px', email: 'px@example.com' });
    const issuer = auth.url.replace('127.0.0.1', 'auth.test');
    const backend = `${rig.upstreamUrl.replace(/\/v1$/, '')}/backend-api/codex`;
    const home = await gatewayHome(rig, { AIGATE_AUTH_ISSUER: issuer, AIGATE_LOGIN_PORT: '0', AIGATE_CHATGPT_BASE_URL: backend }, async (cli) => {
      await cli('settings', 'set', 'upstreamProxy', rig.httpAuth.url);
    });
    const login = startCli(['accounts', 'login', '--no-browser', '--name', 'px'], home.env);
    const [url] = await login.waitFor(/http:\/\/auth\.test:\d+\/oauth\/authorize\?\S+/);
    // The test plays the user's browser, which has its own way to the issuer.
    assert.equal((await playBrowser(url.replace('auth.test', '127.0.0.1'))).status, 200);
    const signedIn = await login.result;
    assert.equal(signedIn.code, 0, signedIn.stderr);
    assert.match(signedIn.stdout, /px signed in \(ChatGPT px@example\.com/);

    // The backend refuses the first token once: the gateway refreshes (through the proxy) and retries.
    // `aigate serve` takes the new account in once it sees store.json change (a file watch).
    await waitForAccount(home.gw.base);
    rig.upstream.plans.push(401);
    const n = rig.upstream.seen.length;
    const res = await postResponses(home.gw.base, turn('hi'));
    assert.equal(res.status, 200, home.gw.log());
    assert.equal(auth.refreshCalls.length, 1);
    assert.equal(auth.rotations(), 1);
    const seen = rig.upstream.seen.slice(n).filter((s) => s.path.endsWith('/responses'));
    assert.deepEqual(seen.map((s) => s.from), ['127.0.0.11', '127.0.0.11']);
    assert.equal(seen[1]!.authorization, `Bearer ${auth.issued.at(-1)!.accessToken}`);
    const proxyLog = await rig.httpAuth.log();
    assert.match(proxyLog, /POST http:\/\/auth\.test:\d+\/oauth\/token/);
    assert.equal(proxyLog.match(/POST http:\/\/auth\.test:\d+\/oauth\/token/g)!.length, 2, 'the code exchange and the refresh');
    assert.deepEqual(await filesContaining(home.dir, [PASS.tinyproxy, auth.issued.at(-1)!.refreshToken]), []);
    await auth.close();
  });
});

/** Upstream proxy choices: URLs and their masking, the environment read like curl, Electron's answers, settings and accounts. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Vault } from '../src/state/secrets.js';
import { maskProxyUrl, parseProxyUrl, proxyChoice } from '../src/state/net/proxy-url.js';
import { isLoopback, proxyFromEnv } from '../src/state/net/proxy-env.js';
import { parsePacAnswer } from '../src/state/net/system-proxy.js';
import { UpstreamNet } from '../src/state/net/upstream-net.js';
import { addProvider, ensureBuilt, filesContaining, openState, postResponses, runCli, startGateway, tempHome, turn } from './_helpers.js';
import { startMockUpstream } from './mock-upstream.js';

const u = (s: string) => new URL(s);

describe('proxy URLs', () => {
  it('takes http, https, socks5 and socks5h with an optional user and password, and masks the password', () => {
    for (const url of ['http://h:3128', 'https://h:443', 'socks5://h:1080', 'socks5h://[::1]:1080']) assert.equal(parseProxyUrl(url).host.length > 0, true);
    assert.equal(maskProxyUrl('http://ann:p%40ss@proxy.corp:3128'), 'http://ann:***@proxy.corp:3128');
    assert.equal(maskProxyUrl('socks5h://ann@127.0.0.1:1080'), 'socks5h://ann@127.0.0.1:1080');
  });

  it('refuses other schemes, paths and junk without repeating the password', () => {
    assert.throws(() => parseProxyUrl('ftp://a:hunter2@h:21'), (e: Error) => /http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\//.test(e.message) && !e.message.includes('hunter2'));
    assert.throws(() => parseProxyUrl('http://a:hunter2@h:3128/path'), (e: Error) => /without a path/.test(e.message) && e.message.includes('a:***@h:3128') && !e.message.includes('hunter2'));
    assert.throws(() => parseProxyUrl('not a url'), /not a URL/);
    assert.throws(() => parseProxyUrl('http://:pw@h:1'), /password but no user name/);
  });

  it('seals a password and keeps only the masked URL in the clear', () => {
    const vault = Vault.fromKey(Buffer.alloc(32, 7));
    const stored = proxyChoice(vault, 'http://ann:s3cret-pw@h:3128', 'setting');
    assert.ok(typeof stored === 'object' && stored);
    assert.equal(stored.url, 'http://ann:***@h:3128');
    assert.doesNotMatch(JSON.stringify(stored), /s3cret-pw/);
    assert.equal(vault.open(stored.sealed!), 'http://ann:s3cret-pw@h:3128');
    assert.deepEqual(proxyChoice(vault, 'http://h:3128', 'account'), { url: 'http://h:3128' });
    assert.equal(proxyChoice(vault, 'default', 'account'), null);
    assert.throws(() => proxyChoice(vault, 'system', 'account'), /use `default`, `direct` or a URL/);
  });
});

describe('the environment, read like curl', () => {
  const env = { HTTPS_PROXY: 'http://corp:3128', http_proxy: 'http://plain:8080', ALL_PROXY: 'socks5h://all:1080' };

  it('picks the variable for the scheme, then ALL_PROXY', () => {
    assert.equal(proxyFromEnv(u('https://chatgpt.com/x'), env), 'http://corp:3128');
    assert.equal(proxyFromEnv(u('http://api.example.com/v1'), env), 'http://plain:8080');
    assert.equal(proxyFromEnv(u('https://chatgpt.com'), { all_proxy: 'socks5://a:1' }), 'socks5://a:1');
    assert.equal(proxyFromEnv(u('https://chatgpt.com'), { https_proxy: 'corp:3128' }), 'http://corp:3128', 'no scheme means http://');
    assert.equal(proxyFromEnv(u('https://chatgpt.com'), {}), undefined);
  });

  it('honours NO_PROXY: *, names with their subdomains, .suffixes, host:port and addresses', () => {
    const with_ = (no_proxy: string) => ({ ...env, NO_PROXY: no_proxy });
    assert.equal(proxyFromEnv(u('https://chatgpt.com'), with_('*')), undefined);
    assert.equal(proxyFromEnv(u('https://api.example.com'), with_('example.com')), undefined);
    assert.equal(proxyFromEnv(u('https://example.com'), with_('.example.com')), undefined);
    assert.equal(proxyFromEnv(u('https://notexample.com'), with_('example.com')), 'http://corp:3128');
    assert.equal(proxyFromEnv(u('https://api.example.com'), with_('api.example.com:443')), undefined);
    assert.equal(proxyFromEnv(u('https://api.example.com:8443'), with_('api.example.com:443')), 'http://corp:3128');
    assert.equal(proxyFromEnv(u('https://10.1.2.3'), with_('foo.org, 10.1.2.3')), undefined);
    assert.equal(proxyFromEnv(u('https://chatgpt.com'), { ...env, no_proxy: 'CHATGPT.COM' }), undefined);
  });

  it('never proxies loopback, whatever the environment says', () => {
    for (const host of ['localhost', 'a.localhost', '127.0.0.1', '127.8.9.10', '[::1]']) {
      assert.equal(isLoopback(u(`http://${host}:1`).hostname), true, host);
      assert.equal(proxyFromEnv(u(`https://${host}:1`), env), undefined, host);
    }
    assert.equal(isLoopback('localhost.example.com'), false);
    assert.equal(isLoopback('10.0.0.1'), false);
  });
});

describe("Electron's proxy answers", () => {
  it('takes the first usable entry of a PAC-style answer', () => {
    assert.equal(parsePacAnswer('DIRECT'), undefined);
    assert.equal(parsePacAnswer('PROXY corp:3128; DIRECT'), 'http://corp:3128');
    assert.equal(parsePacAnswer('HTTPS secure.corp:443'), 'https://secure.corp:443');
    assert.equal(parsePacAnswer('SOCKS5 127.0.0.1:7890; DIRECT'), 'socks5h://127.0.0.1:7890');
    assert.equal(parsePacAnswer('SOCKS old:1080; PROXY next:8080'), 'http://next:8080', 'SOCKS v4 is skipped');
    assert.equal(parsePacAnswer('QUIC x:443'), undefined);
    assert.equal(parsePacAnswer(''), undefined);
  });

  it('asks the OS once per origin for `system`, and an account’s own choice wins', async () => {
    const home = await tempHome();
    const state = await openState(home);
    const asked: string[] = [];
    const net = new UpstreamNet({ ...state, env: { HTTPS_PROXY: 'http://ignored:1' }, system: async (url) => (asked.push(url), 'PROXY os-proxy:3128; DIRECT') });
    assert.equal(await net.proxyFor(u('https://chatgpt.com/backend-api/codex/responses')), 'http://os-proxy:3128');
    assert.equal(await net.proxyFor(u('https://chatgpt.com/backend-api/codex/models')), 'http://os-proxy:3128');
    assert.deepEqual(asked, ['https://chatgpt.com/backend-api/codex/responses']);
    const account = { upstreamProxy: 'direct' } as never;
    assert.equal(await net.proxyFor(u('https://chatgpt.com/x'), account), undefined);
    const a = await net.route(u('https://chatgpt.com/x'));
    assert.equal(a.proxy, 'http://os-proxy:3128');
    assert.equal(a.agent, (await net.route(u('https://other.example/y'))).agent, 'one agent per proxy URL, not per request');
    net.close();
  });
});

describe('a proxy the environment names in a form AI Gate cannot use', () => {
  it('fails the request over with a message naming the variables, and no connection is tried', async () => {
    const home = await tempHome();
    const env = { ...home.env, HTTPS_PROXY: 'socks4://old-proxy:1080' };
    const gw = await startGateway({ ...home, env }, { env });
    await addProvider(gw, 'far', 'https://api.provider.invalid/v1');
    // The next account is on loopback, which no proxy setting ever applies to.
    const near = await startMockUpstream({ tag: 'near' });
    after(() => near.close());
    await addProvider(gw, 'near', `${near.url}/v1`);
    const events: { account: string; message: string }[] = [];
    gw.bus.on('proxy-error', (e) => events.push(e));
    const res = await postResponses(gw.base, turn('hi'));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /Hello from near/);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.account, 'far');
    assert.match(events[0]!.message, /HTTPS_PROXY\/https_proxy or ALL_PROXY\) is not usable: a proxy must be http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\/, not socks4:/);
  });
});

describe('aigate settings and aigate accounts set', () => {
  it('lists, gets and sets every setting; bad input is refused and changes nothing', async () => {
    await ensureBuilt();
    const home = await tempHome();
    const env = { ...home.env, AIGATE_KEYCHAIN: 'off' };
    const list = JSON.parse((await runCli(['settings', '--json'], env)).stdout);
    assert.deepEqual(list, { failover: true, quotaThreshold: null, notifications: true, statsRetentionDays: 90, routing: 'order', upstreamProxy: 'system' });
    assert.equal((await runCli(['settings', 'set', 'quotaThreshold', '90'], env)).stdout.trim(), 'quotaThreshold = 90');
    assert.equal((await runCli(['settings', 'set', 'routing', 'soonest-reset'], env)).stdout.trim(), 'routing = soonest-reset');
    assert.equal((await runCli(['settings', 'set', 'failover', 'off'], env)).stdout.trim(), 'failover = false');
    assert.equal((await runCli(['settings', 'get', 'quotaThreshold'], env)).stdout.trim(), '90');
    const before = (await runCli(['settings', '--json'], env)).stdout;
    for (const [args, why] of [
      [['quotaThreshold', '101'], /invalid setting: quotaThreshold/],
      [['failover', 'maybe'], /invalid setting: failover/],
      [['statsRetentionDays', '0'], /statsRetentionDays/],
      [['routing', 'cheapest'], /routing is order or soonest-reset/],
      [['upstreamProxy', 'ftp://u:leaky-pass@h:21'], /http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\//],
      [['colour', 'blue'], /there is no setting "colour"; the settings are failover, quotaThreshold/],
    ] as const) {
      const bad = await runCli(['settings', 'set', ...args], env);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, why);
      assert.doesNotMatch(bad.stderr, /leaky-pass/);
    }
    assert.equal((await runCli(['settings', '--json'], env)).stdout, before, 'nothing changed');
    const set = await runCli(['settings', 'set', 'upstreamProxy', 'socks5h://me:cli-proxy-pass@127.0.0.1:1080', '--json'], env);
    assert.equal(JSON.parse(set.stdout).upstreamProxy, 'socks5h://me:***@127.0.0.1:1080');
    assert.match((await runCli(['settings'], env)).stdout, /upstreamProxy\s+socks5h:\/\/me:\*\*\*@127\.0\.0\.1:1080/);
    assert.deepEqual(await filesContaining(home.dir, ['cli-proxy-pass']), []);
  });

  it('renames, moves and routes an account; a bad proxy changes nothing', async () => {
    const home = await tempHome();
    const env = { ...home.env, AIGATE_KEYCHAIN: 'off' };
    assert.equal((await runCli(['accounts', 'add', 'work', '--base-url', 'https://api.example.com/v1'], env, 'sk-work-0123456789')).code, 0);
    const set = await runCli(['accounts', 'set', 'work', '--name', 'job', '--base-url', 'https://api.other.example/v1', '--upstream-proxy', 'http://u:acct-pass@127.0.0.1:3128', '--json'], env);
    assert.equal(set.code, 0, set.stderr);
    const shown = JSON.parse(set.stdout);
    assert.deepEqual([shown.name, shown.baseUrl, shown.upstreamProxy], ['job', 'https://api.other.example/v1', 'http://u:***@127.0.0.1:3128']);
    assert.match((await runCli(['accounts', 'list'], env)).stdout, /job\s+third-party\s+.*http:\/\/u:\*\*\*@127\.0\.0\.1:3128/);
    const bad = await runCli(['accounts', 'set', 'job', '--name', 'again', '--upstream-proxy', 'gopher://x'], env);
    assert.notEqual(bad.code, 0);
    assert.match(JSON.parse((await runCli(['accounts', 'list', '--json'], env)).stdout)[0].name, /^job$/, 'the rename in the refused change was not applied');
    assert.equal((await runCli(['accounts', 'set', 'job'], env)).code, 2);
    assert.equal(JSON.parse((await runCli(['accounts', 'set', 'job', '--upstream-proxy', 'default', '--json'], env)).stdout).upstreamProxy, 'default');
    assert.deepEqual(await filesContaining(home.dir, ['acct-pass']), []);
  });
});

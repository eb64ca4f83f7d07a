/** The real Codex CLI through AI Gate to a TLS upstream that only real proxies on loopback can reach. */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ensureBuilt, filesContaining } from '../_helpers.js';
import { assertLoopbackOnly, execArgs, providerArgs, runCodex } from './_codex.js';
import { codexHome, gatewayHome, PASS, proxyRig, type ProxyRig } from './_proxy-rig.js';

assertLoopbackOnly();
await ensureBuilt();
// At the file's top level: what it starts is stopped after the file, not after a hook.
const rig: ProxyRig = await proxyRig();

describe('Codex through AI Gate through an upstream proxy', () => {
  const turn = async (home: Awaited<ReturnType<typeof gatewayHome>>) => {
    const seen = rig.upstream.seen.length;
    const run = await runCodex(execArgs('Say hello', providerArgs(home.gw.base, { envKey: 'GW_KEY' })), codexHome(home));
    assert.equal(run.code, 0, `${run.stderr}\n--- aigate serve:\n${home.gw.log()}`);
    assert.match(run.stdout, /Hello through P\./);
    return rig.upstream.seen.slice(seen).filter((s) => s.path === '/v1/responses');
  };

  it('goes through the HTTP CONNECT proxy that HTTPS_PROXY names (the proxy resolves the upstream’s name)', async () => {
    const home = await gatewayHome(rig, { HTTPS_PROXY: rig.http.url }, (cli) => cli('accounts', 'add', 'work', '--base-url', rig.upstreamUrl).then(() => undefined));
    const turns = await turn(home);
    assert.ok(turns.length >= 1);
    assert.ok(turns.every((t) => t.from === '127.0.0.9'), 'every request came out of tinyproxy');
    assert.equal(turns[0]!.authorization, 'Bearer sk-work-key-0123456789');
    assert.match(await rig.http.log(), /CONNECT upstream\.test:\d+/);
  });

  it('goes through a proxy with Basic auth set by `aigate settings`, and the password shows up nowhere', async () => {
    const url = rig.httpAuth.url;
    let setOut = '';
    const home = await gatewayHome(rig, {}, async (cli) => {
      await cli('accounts', 'add', 'work', '--base-url', rig.upstreamUrl);
      setOut = (await cli('settings', 'set', 'upstreamProxy', url)).stdout;
    });
    const masked = url.replace(PASS.tinyproxy, '***');
    assert.equal(setOut.trim(), `upstreamProxy = ${masked}`);
    const turns = await turn(home);
    assert.ok(turns.length >= 1 && turns.every((t) => t.from === '127.0.0.11'));

    const doctor = await home.cli('doctor', '--json');
    const check = JSON.parse(doctor.stdout).checks.find((c: { name: string }) => c.name === `proxy ${masked}`);
    assert.equal(check?.status, 'ok', doctor.stdout);
    assert.match(check.message, /reaches upstream\.test:\d+ \(HTTP 200 from the upstream\) \(for work\)/);
    const token = (await fs.readFile(path.join(home.paths.data, 'admin-token'), 'utf8')).trim();
    const answers = await Promise.all(
      ['settings', 'accounts', 'status'].map((p) => fetch(`${home.gw.url}/aigate/api/${p}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text())),
    );
    assert.match(answers[0]!, new RegExp(masked.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    const outputs = [setOut, doctor.stdout, doctor.stderr, (await home.cli('settings')).stdout, (await home.cli('settings', '--json')).stdout, (await home.cli('accounts', 'list', '--json')).stdout, home.gw.log(), ...answers];
    for (const text of outputs) assert.doesNotMatch(text, new RegExp(PASS.tinyproxy));
    assert.deepEqual(await filesContaining(home.dir, [PASS.tinyproxy]), [], 'no file holds the proxy password, plain or base64');
  });

  it('goes through a SOCKS5 proxy with a user and password set for the account alone (socks5h: names resolve on the proxy)', async () => {
    const home = await gatewayHome(rig, {}, async (cli) => {
      await cli('accounts', 'add', 'work', '--base-url', rig.upstreamUrl);
      const set = await cli('accounts', 'set', 'work', '--upstream-proxy', rig.socks.url);
      assert.match(set.stdout, /upstream proxy: socks5h:\/\/bob:\*\*\*@127\.0\.0\.1:\d+/);
      assert.doesNotMatch(set.stdout + (await cli('accounts', 'list')).stdout, new RegExp(PASS.socks));
    });
    const turns = await turn(home);
    assert.ok(turns.length >= 1 && turns.every((t) => t.from === '127.0.0.10'));
    assert.match(await rig.socks.log(), /connected to upstream\.test:\d+/);
    assert.deepEqual(await filesContaining(home.dir, [PASS.socks]), []);
  });

  it('goes through a plain socks5:// proxy, which gets an address the gateway resolved itself', async () => {
    // The gateway resolves the name here (its own hosts file); the upstream still refuses anything but the proxy.
    const home = await gatewayHome(rig, { ALL_PROXY: rig.socksLocal.url }, (cli) => cli('accounts', 'add', 'work', '--base-url', rig.upstreamUrl).then(() => undefined), rig.hosts);
    const turns = await turn(home);
    assert.ok(turns.length >= 1 && turns.every((t) => t.from === '127.0.0.12'));
    assert.match(await rig.socksLocal.log(), /connected to 127\.0\.0\.1:\d+/, 'the proxy was handed an address, not a name');
  });
});

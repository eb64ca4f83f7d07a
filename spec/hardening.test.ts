/**
 * Hardening cases fast enough for every `npm test`: hostile input on the
 * Codex routes and the admin API (each a 4xx or a closed socket, nothing on
 * disk changed), decompression bombs, redirects that must not be followed,
 * processes racing on a new install, auth.json left behind by a crash, and a
 * handful of kill -9 rounds. `npm run soak` runs the long versions.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Vault } from '../src/state/secrets.js';
import { Store } from '../src/state/store.js';
import { readCodexAuth } from '../src/state/auth/codex-auth.js';
import { upsertOfficial } from '../src/state/accounts.js';
import { addProvider, ensureBuilt, openState, startGateway, tempHome } from './_helpers.js';
import { createBackup, restoreBackup } from '../src/state/codex/backups.js';
import { withConfigLock } from '../src/state/codex/config.js';
import { authJsonFor, startMockAuth } from './mock-auth.js';
import { startMockUpstream } from './mock-upstream.js';
import { crashRounds } from './soak/crash.js';
import { hostileCases, request, sendRaw, zstdBomb } from './soak/hostile-cases.js';
import { runCases, treeChanges, treeHashes } from './soak/hostile.js';
import { Logs, startMock, tempRoot } from './soak/processes.js';

describe('hostile input', async () => {
  const home = await tempHome();
  const upstream = await startMockUpstream({ tag: 'H' });
  after(() => upstream.close());
  const gw = await startGateway(home);
  await addProvider(gw, 'h1', `${upstream.url}/v1`, 'sk-hardening-h1-0123456789abcdef');
  const port = Number(new URL(gw.gateway.url).port);
  const token = (await fs.readFile(path.join(home.paths.data, 'admin-token'), 'utf8')).trim();
  const logs = new Logs(path.join(home.dir, 'logs'));

  it('answers every hostile case with a 4xx or a closed socket, sends none upstream, and changes no file', async () => {
    await gw.store.idle();
    const before = treeHashes(home.dir);
    const seenBefore = upstream.seen.length;
    const cases = hostileCases(port, token, home.paths.home, false);
    assert.ok(cases.length > 120, `${cases.length} cases`);
    const { bad } = await runCases(port, cases, logs, () => true);
    assert.deepEqual(bad, []);
    assert.equal(upstream.seen.length, seenBefore, 'no hostile request reached the upstream');
    await gw.store.idle();
    assert.deepEqual(treeChanges(before, treeHashes(home.dir)).filter((c) => !c.includes('logs')), []);
  });

  it('refuses zstd bombs with 413 before decompressing them', async () => {
    for (const size of [1024 ** 3, 4 * 1024 ** 3]) {
      const answer = await sendRaw(port, request('POST', '/ai-router/api/responses', port, { 'content-type': 'application/json', 'content-encoding': 'zstd' }, zstdBomb(size)));
      assert.equal(answer.status, 413, answer.text);
    }
    assert.ok(process.memoryUsage.rss() < 1024 ** 3, 'nothing was inflated');
  });

  it('answers 400 (not 500) to malformed percent-encoding in a pinned account name', async () => {
    const answer = await sendRaw(port, request('POST', '/ai-router/api/accounts/%ZZ/responses', port, { 'content-type': 'application/json' }, '{}'));
    assert.equal(answer.status, 400);
    assert.match(answer.text, /invalid_path/);
  });

  it('answers 400 to a body that is not UTF-8, and sends nothing upstream', async () => {
    const seen = upstream.seen.length;
    const body = Buffer.concat([Buffer.from('{"model":"gpt-5.1-codex","input":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const answer = await sendRaw(port, request('POST', '/ai-router/api/responses', port, { 'content-type': 'application/json' }, body));
    assert.equal(answer.status, 400);
    assert.equal(upstream.seen.length, seen);
  });

  it('bounds how long a request may take to arrive (slow bodies), not how long its answer streams', () => {
    const server = gw.gateway.server;
    assert.ok(server.headersTimeout > 0 && server.headersTimeout <= 60_000, `headersTimeout ${server.headersTimeout}`);
    assert.ok(server.requestTimeout > 0 && server.requestTimeout <= 120_000, `requestTimeout ${server.requestTimeout}`);
  });

  it('never quotes a file it was pointed at as an auth.json, and refuses devices and directories unread', async () => {
    const key = (await fs.readFile(path.join(home.paths.data, 'secret.key'), 'utf8')).trim();
    await assert.rejects(readCodexAuth(path.join(home.paths.data, 'secret.key')), (err: Error) => !err.message.includes(key.slice(0, 6)) && /not valid JSON/.test(err.message));
    await assert.rejects(readCodexAuth('/dev/zero'), /not a regular file/);
    await assert.rejects(readCodexAuth(home.dir), /not a regular file/);
  });

  it('relays a redirect without following it: the other host never sees the key', async () => {
    let trapHits = 0;
    let trapSawKey = false;
    const trap = http.createServer((req, res) => {
      trapHits++;
      trapSawKey ||= JSON.stringify(req.headers).includes('sk-redirect');
      res.end('trap');
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    after(() => new Promise((r) => trap.close(r)));
    const trapUrl = `http://127.0.0.1:${(trap.address() as { port: number }).port}`;
    await addProvider(gw, 'redirecting', `${upstream.url}/r`, 'sk-redirect-0123456789abcdef');
    for (const location of [`${trapUrl}/v1/responses`, 'file:///etc/passwd']) {
      upstream.plans.push({ kind: 'status', status: 302, headers: { location }, body: {} });
      const answer = await sendRaw(port, request('POST', '/ai-router/api/accounts/redirecting/responses', port, { 'content-type': 'application/json' }, '{"model":"x"}'));
      assert.notEqual(answer.status, 200);
    }
    assert.equal(trapHits, 0);
    assert.equal(trapSawKey, false);
  });
});

describe('processes racing on a new install', async () => {
  const home = await tempHome();

  it('agree on one vault key, so no secret is sealed under a key that is then replaced', async () => {
    const vaults = await Promise.all([Vault.open(home.paths, null), Vault.open(home.paths, null), Vault.open(home.paths, null)]);
    const sealed = vaults.map((v, i) => v.seal(`secret ${i}`));
    const onDisk = await Vault.open(home.paths, null);
    assert.deepEqual(sealed.map((s) => onDisk.open(s)), ['secret 0', 'secret 1', 'secret 2']);
  });

  it('keep both first updates when two stores create the file at once', async () => {
    const stores = await Promise.all([Store.open(home.paths), Store.open(home.paths)]);
    after(() => stores.forEach((s) => s.close()));
    await Promise.all(stores.map((s, i) => s.update((d) => void (d.settings.active = d.settings.active ? `${d.settings.active},${i}` : String(i)))));
    const data = JSON.parse(await fs.readFile(path.join(home.paths.data, 'store.json'), 'utf8'));
    assert.deepEqual(data.settings.active.split(',').sort(), ['0', '1']);
  });
});

describe('a backup restore racing another config.toml edit', async () => {
  const home = await tempHome();
  it('waits for the edit in progress instead of being overwritten by it', async () => {
    const state = await openState(home);
    const config = path.join(home.paths.codexHome, 'config.toml');
    await fs.writeFile(config, 'model = "saved"\n');
    const backup = await createBackup(state, { reason: 'manual' });
    await fs.writeFile(config, 'model = "current"\n');
    // Another process's edit: it read config.toml under the lock and writes its version a moment later.
    const order: string[] = [];
    const edit = withConfigLock(home.paths, async () => {
      const before = await fs.readFile(config, 'utf8');
      await new Promise((r) => setTimeout(r, 150));
      await fs.writeFile(config, before.replace('current', 'edited'));
      order.push('edit');
    });
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([edit, restoreBackup(state, backup.id).then(() => order.push('restore'))]);
    assert.deepEqual(order, ['edit', 'restore']);
    assert.equal(await fs.readFile(config, 'utf8'), 'model = "saved"\n');
  });
});

describe('after a crash between the store write and auth.json', async () => {
  const home = await tempHome();
  const auth = await startMockAuth({ accountId: 'acct-crash', userId: 'user-crash' });
  after(() => auth.close());
  it('the next gateway start hands Codex the live refresh token', async () => {
    // AI Gate rotated T1 → T2 and saved T2, then died before writing auth.json, which still holds the spent T1.
    const t1 = auth.issue();
    const t2res = await fetch(`${auth.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'app_EMoamEEZ73f0CkXaXp7hrann', grant_type: 'refresh_token', refresh_token: t1.refreshToken }),
    });
    assert.equal(t2res.status, 200);
    const t2 = auth.issued.at(-1)!;
    const authFile = path.join(home.paths.codexHome, 'auth.json');
    await fs.writeFile(authFile, authJsonFor(t1, { last_refresh: new Date(Date.now() - 60_000).toISOString() }), { mode: 0o600 });
    const store = await Store.open(home.paths);
    await upsertOfficial(store, await Vault.open(home.paths, null), { ...t2, lastRefresh: new Date().toISOString() }, 'crash');
    store.close();
    assert.equal(JSON.parse(await fs.readFile(authFile, 'utf8')).tokens.refresh_token, t1.refreshToken);

    const gw = await startGateway(home, { env: { ...home.env, AIGATE_AUTH_ISSUER: auth.url } });
    for (let i = 0; i < 100 && JSON.parse(await fs.readFile(authFile, 'utf8')).tokens.refresh_token !== t2.refreshToken; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(JSON.parse(await fs.readFile(authFile, 'utf8')).tokens.refresh_token, t2.refreshToken);
    assert.equal(auth.isLiveRefreshToken(t2.refreshToken), true);
    assert.equal(auth.rotations(), 1, 'nothing was spent to get there');
    await gw.stop(0);
  });
});

describe('kill -9 rounds', async () => {
  await ensureBuilt();
  const root = tempRoot('aigate-hardening-');
  const logs = new Logs(path.join(root, 'logs'));
  const mock = await startMock(logs);
  after(async () => {
    await mock.stop();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('after every kill of `aigate serve` and a CLI mid-write: the store loads, nothing acknowledged is lost, the files are whole', async () => {
    const suite = { logs, root, mock, secrets: new Set<string>(), homes: [] };
    const { tally, failures, auth } = await crashRounds(suite, { rounds: 5, lockRounds: 0 });
    await auth.close();
    assert.deepEqual(failures, []);
    assert.equal(tally.storeLoads, 5);
    assert.equal(tally.configWhole, 5);
    assert.equal(tally.authJsonWhole, 5);
    assert.equal(tally.tokenLive + tally.tokenWindow + tally.spentRounds, 5);
    if (tally.spentToken) assert.match(tally.spentToken, /needs-login.*gateway up/);
  });
});

/** AI Gate refreshes a login it shares with Codex under Codex's own locks (flock on auth.lock, auth.json.lock). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, upsertOfficial } from '../src/state/accounts.js';
import { codexLockProblemNow } from '../src/state/auth/codex-auth-lock.js';
import { codexAuthFile } from '../src/state/paths.js';
import { postResponses, startGateway, tempHome, turn } from './_helpers.js';
import { authJsonFor, CLIENT_ID, startMockAuth, type MockAuth } from './mock-auth.js';
import { startMockUpstream, type MockUpstream } from './mock-upstream.js';

let auth: MockAuth;
let upstream: MockUpstream;
before(async () => {
  auth = await startMockAuth({ accountId: 'acct-l', userId: 'user-l', email: 'l@example.com' });
  upstream = await startMockUpstream({ tag: 'chatgpt', authorize: (h) => !!h && auth.isLiveAccessToken(h) });
});
after(() => Promise.all([auth.close(), upstream.close()]));

/** Holds an flock(2) on `file` from another process (util-linux `flock`, as Codex's own lock is) until released. */
async function holdLock(file: string) {
  const child = spawn('flock', [file, 'sh', '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  after(() => child.kill('SIGKILL')); // a failed test must not leave the lock held
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`flock exited ${code}`)));
  });
  return { release: () => new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.stdin.end())) };
}

/** Whether this process has `file` open (Linux: /proc/self/fd). */
async function openHere(file: string): Promise<boolean> {
  for (const fd of await fs.readdir('/proc/self/fd')) if ((await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')) === file) return true;
  return false;
}

describe('Codex’s auth.lock', () => {
  it('makes AI Gate wait while Codex refreshes, then take the tokens Codex wrote instead of spending its own', async () => {
    const home = await tempHome();
    Object.assign(home.env, { AIGATE_AUTH_ISSUER: auth.url, AIGATE_CHATGPT_BASE_URL: upstream.url, AIGATE_SCHEDULER_INTERVAL: 'off' });
    const initial = auth.issue({ accessTtlSeconds: -60 });
    const file = codexAuthFile(home.paths);
    await fs.writeFile(file, authJsonFor(initial), { mode: 0o600 });
    const gw = await startGateway(home);
    const { account } = await upsertOfficial(gw.store, gw.vault, { ...initial, lastRefresh: JSON.parse(authJsonFor(initial)).last_refresh }, 'shared');

    // Codex is refreshing: it holds auth.lock. AI Gate's request needs a refresh too.
    const codex = await holdLock(path.join(home.paths.codexHome, 'auth.lock'));
    assert.equal(await openHere(path.join(home.paths.codexHome, 'auth.lock')), false);
    const answered = postResponses(gw.base, turn('while Codex refreshes'));
    // The gateway runs in this process: once it has auth.lock open, it is waiting for Codex's lock.
    const lockFile = path.join(home.paths.codexHome, 'auth.lock');
    for (let i = 0; i < 400 && !(await openHere(lockFile)); i++) await sleep(5);
    assert.ok(await openHere(lockFile), `AI Gate is waiting on Codex's lock (${await codexLockProblemNow() ?? 'flock available'})`);
    const res = await fetch(`${auth.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_reason: 'proactive_expiry', refresh_token: initial.refreshToken }) });
    assert.equal(res.status, 200);
    const fresh = auth.issued.at(-1)!;
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    doc.tokens = { ...doc.tokens, access_token: fresh.accessToken, refresh_token: fresh.refreshToken, id_token: fresh.idToken };
    doc.last_refresh = new Date(Date.now() + 1000).toISOString();
    await fs.writeFile(`${file}.tmp`, JSON.stringify(doc), { mode: 0o600 });
    await fs.rename(`${file}.tmp`, file); // as Codex 0.171 writes it: a temp file renamed into place
    await codex.release();

    const done = await answered;
    assert.equal(done.status, 200, done.text);
    assert.equal(auth.reuseAttempts(), 0, 'nobody spent a refresh token twice');
    assert.deepEqual(auth.refreshCalls.map((c) => c.token), [initial.refreshToken], 'only Codex refreshed');
    assert.equal(upstream.seen.at(-1)!.headers.authorization, `Bearer ${fresh.accessToken}`);
    const stored = credentials(gw.vault, gw.store.data.accounts.find((a) => a.id === account.id)!) as { refreshToken: string };
    assert.equal(stored.refreshToken, fresh.refreshToken);
  });

  it('is not taken for an account that Codex is not signed in with', async () => {
    const home = await tempHome();
    Object.assign(home.env, { AIGATE_AUTH_ISSUER: auth.url, AIGATE_CHATGPT_BASE_URL: upstream.url, AIGATE_SCHEDULER_INTERVAL: 'off' });
    const theirs = auth.issue();
    await fs.writeFile(codexAuthFile(home.paths), authJsonFor({ ...theirs, accountId: 'acct-someone-else' }), { mode: 0o600 });
    const gw = await startGateway(home);
    const mine = auth.issue({ accessTtlSeconds: -60 });
    await upsertOfficial(gw.store, gw.vault, mine, 'mine');
    const codex = await holdLock(path.join(home.paths.codexHome, 'auth.lock'));
    const res = await postResponses(gw.base, turn('not shared'));
    await codex.release();
    assert.equal(res.status, 200, 'AI Gate refreshed without waiting for a lock on a login it does not share');
    assert.equal(auth.refreshCalls.at(-1)!.token, mine.refreshToken);
  });
});

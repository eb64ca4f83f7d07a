/**
 * Codex and AI Gate share one ChatGPT account and both refresh it: Codex on
 * its own (its access token near expiry at the start of a turn), AI Gate on a
 * 401 from the backend. Refresh tokens rotate and the mock auth server rejects
 * any reuse, so one wrong move by either side shows up as a reuse attempt.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { credentials } from '../../src/state/accounts.js';
import { codexAuthFile } from '../../src/state/paths.js';
import { ensureBuilt, runCli, startGateway, tempHome, type TempHome } from '../_helpers.js';
import { authJsonFor, startMockAuth, type MockAuth } from '../mock-auth.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstream.js';
import { assertLoopbackOnly, execArgs, providerArgs, QUIET_CHATGPT_MODE, runCodex } from './_codex.js';

let auth: MockAuth;
let upstream: MockUpstream;
let home: TempHome;
let gw: Awaited<ReturnType<typeof startGateway>>;

async function setup(): Promise<void> {
  assertLoopbackOnly();
  await ensureBuilt();
  auth = await startMockAuth({ accountId: 'acct-e2e', userId: 'user-e2e', email: 'e2e@example.com', plan: 'pro' });
  // The backend stand-in takes only live access tokens the auth server issued, like the real one.
  upstream = await startMockUpstream({ tag: 'chatgpt', authorize: (h) => !!h && auth.isLiveAccessToken(h) });
  after(async () => {
    await auth.close();
    await upstream.close();
  });
  home = await tempHome('aigate-e2e-shared-');
  Object.assign(home.env, { AIGATE_AUTH_ISSUER: auth.url, AIGATE_CHATGPT_BASE_URL: upstream.url });
  gw = await startGateway(home);
}

/**
 * In ChatGPT mode Codex also calls chatgpt.com for apps, plugins and analytics; inside the
 * loopback-only namespace each of those waits out its retries (~25 s a turn), so they are off.
 */

const codex = (prompt: string) =>
  runCodex(execArgs(prompt, [...providerArgs(gw.base, { requiresOpenaiAuth: true }), ...QUIET_CHATGPT_MODE]), {
    home: home.dir,
    codexHome: home.paths.codexHome,
    // Codex's own refresh goes to the mock too (openai/codex login/src/auth/manager.rs: REFRESH_TOKEN_URL_OVERRIDE_ENV_VAR).
    extra: { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${auth.url}/oauth/token` },
  });

const refused = () => upstream.plans.push({ kind: 'status', status: 401, body: { error: { message: 'token expired', code: 'token_expired' } } });

const authJson = async () => JSON.parse(await fs.readFile(codexAuthFile(home.paths), 'utf8'));
const storedRefreshToken = () => (credentials(gw.vault, gw.store.data.accounts[0]!) as { refreshToken: string }).refreshToken;
const refreshesBy = (who: RegExp) => auth.refreshCalls.filter((c) => c.outcome === 'rotated' && who.test(c.userAgent ?? '')).length;

async function settled(check: () => Promise<boolean> | boolean, ms = 3_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) if (await check()) return true;
  return check();
}

describe('Codex and AI Gate share one ChatGPT login', async () => {
  await setup();

  it('runs turns while both refresh, and neither ends up with a dead refresh token', async () => {
    // A long-lived access token two minutes from its end, in Codex's auth.json and imported into AI Gate.
    await fs.writeFile(codexAuthFile(home.paths), authJsonFor(auth.issue({ accessTtlSeconds: 120, ageSeconds: 3600 })), { mode: 0o600 });
    const imported = await runCli(['accounts', 'import', '--name', 'shared'], home.env);
    assert.equal(imported.code, 0, imported.stderr);

    // Turn 1: Codex refreshes before sending; AI Gate takes Codex's new tokens instead of spending its own.
    let run = await codex('turn one');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Hello from chatgpt/);
    assert.equal(refreshesBy(/codex/), 1, 'Codex refreshed its near-expiry token itself');
    assert.equal(refreshesBy(/aigate/), 0, 'AI Gate adopted it rather than refreshing too');

    // Turn 2: the backend refuses AI Gate's token once: AI Gate refreshes, writes auth.json, retries.
    refused();
    run = await codex('turn two');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(refreshesBy(/aigate/), 1, 'AI Gate refreshed on the 401');
    assert.equal(refreshesBy(/codex/), 1);

    // Turn 3: the backend refuses twice more. AI Gate, having refreshed on a 401 a moment ago, does not
    // refresh again (that would kill the copy Codex holds); the gateway answers Codex 401, Codex reloads
    // auth.json, then refreshes on its own with the live token, and its retry goes through.
    refused();
    refused();
    run = await codex('turn three');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(refreshesBy(/codex/), 2, 'Codex refreshed on the 401s');
    assert.equal(refreshesBy(/aigate/), 1);

    // Turn 4: AI Gate now sends the tokens Codex refreshed.
    run = await codex('turn four');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(upstream.seen.at(-1)!.headers.authorization, `Bearer ${(await authJson()).tokens.access_token}`);

    // One chain: no refresh token was ever presented twice, and both sides hold the live one.
    assert.equal(auth.reuseAttempts(), 0, JSON.stringify(auth.refreshCalls.map((c) => [c.outcome, c.userAgent])));
    const final = await authJson();
    assert.ok(auth.isLiveRefreshToken(final.tokens.refresh_token), 'auth.json holds the live refresh token');
    assert.ok(await settled(() => storedRefreshToken() === final.tokens.refresh_token), 'AI Gate holds the same live refresh token');
    assert.equal(gw.store.data.accounts[0]!.health.state, 'ok');
    assert.equal((await fs.stat(codexAuthFile(home.paths))).mode & 0o777, 0o600);
    assert.equal(final.auth_mode, 'chatgpt');
    assert.equal(final.tokens.account_id, 'acct-e2e');
    // Every request that reached the backend carried a token the auth server issued and still honours.
    const dead = upstream.seen.filter((s) => !auth.isLiveAccessToken(String(s.headers.authorization ?? '')));
    assert.deepEqual(dead.map((s) => s.path), []);
    console.log(`# refreshes: codex ${refreshesBy(/codex/)}, aigate ${refreshesBy(/aigate/)}, reuse attempts ${auth.reuseAttempts()}, upstream requests ${upstream.seen.length}`);
  });
});

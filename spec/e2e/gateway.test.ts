/** The real Codex CLI through `aigate`'s gateway to a mock upstream, one account kind at a time. */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addProvider, codexAuthJson, officialTokens, startGateway, tempHome, type TempHome } from '../_helpers.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstream.js';
import { upsertOfficial } from '../../src/state/accounts.js';
import { assertLoopbackOnly, execArgs, providerArgs, QUIET_CHATGPT_MODE, runCodex } from './_codex.js';

before(assertLoopbackOnly);


async function codexHome(home: TempHome, authJson?: string) {
  if (authJson) await fs.writeFile(path.join(home.paths.codexHome, 'auth.json'), authJson, { mode: 0o600 });
  return { home: home.dir, codexHome: home.paths.codexHome };
}

describe('Codex through AI Gate', () => {
  let upstream: MockUpstream;
  before(async () => {
    upstream = await startMockUpstream({ tag: 'T', reasoning: true });
  });
  after(() => upstream.close());

  it('completes a turn on a third-party account, with the account key replacing Codex’s', async () => {
    const home = await tempHome();
    const gw = await startGateway(home);
    await addProvider(gw, 'provider', `${upstream.url}/v1`, 'sk-provider-real-key');
    const run = await runCodex(execArgs('Say hello', providerArgs(gw.base, { envKey: 'GW_KEY' })), { ...(await codexHome(home)), extra: { GW_KEY: 'codex-side-key' } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Hello from T\./);
    const seen = upstream.seen.filter((s) => s.path === '/v1/responses').at(-1)!;
    assert.equal(seen.headers.authorization, 'Bearer sk-provider-real-key');
    assert.equal(seen.json.model, 'gpt-5.1-codex');
    assert.equal(seen.json.stream, true);
    assert.ok(seen.headers['session-id'], 'Codex sends its session id');
  });

  it('runs a turn with a tool call: two requests, the second carrying the tool output', async () => {
    const home = await tempHome();
    const gw = await startGateway(home);
    await addProvider(gw, 'provider', `${upstream.url}/v1`);
    const before = upstream.seen.length;
    // Codex 0.169's shell tool is `exec_command` with a `cmd` string.
    upstream.plans.push({ kind: 'tool-call', name: 'exec_command', arguments: { cmd: 'echo tool-ran-42' } }, { kind: 'ok', text: 'The tool said tool-ran-42.' });
    const run = await runCodex(execArgs('Run the tool', providerArgs(gw.base, { envKey: 'GW_KEY' })), { ...(await codexHome(home)), extra: { GW_KEY: 'k' } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /The tool said tool-ran-42\./);
    const turns = upstream.seen.slice(before).filter((s) => s.path === '/v1/responses');
    assert.equal(turns.length, 2);
    const output = turns[1]!.json.input.find((i: { type: string }) => i.type === 'function_call_output');
    assert.ok(output, 'the second request carries the function_call_output');
    assert.match(JSON.stringify(output), /tool-ran-42/);
  });

  it('serves an imported ChatGPT account: the upstream sees its token and account id, not Codex’s', async () => {
    const home = await tempHome();
    const chatgpt = await startMockUpstream({ tag: 'C', models: { models: [] } });
    after(() => chatgpt.close());
    const env = { ...home.env, AIGATE_CHATGPT_BASE_URL: `${chatgpt.url}/backend-api/codex` };
    const gw = await startGateway({ ...home, env }, { env });
    const gate = officialTokens({ accountId: 'acct-gate', email: 'gate@example.com' });
    const authFile = path.join(home.dir, 'gate-auth.json');
    await fs.writeFile(authFile, codexAuthJson(gate), { mode: 0o600 });
    // Imported the way `aigate accounts import --auth-file` does it.
    const { readCodexAuth, loginFrom } = await import('../../src/state/auth/codex-auth.js');
    const login = loginFrom((await readCodexAuth(authFile))!, authFile);
    assert.equal(login.kind, 'chatgpt');
    if (login.kind === 'chatgpt') await upsertOfficial(gw.store, gw.vault, login.tokens, 'gate');

    const codexOwn = officialTokens({ accountId: 'acct-codex', email: 'codex@example.com' });
    // Codex's own ChatGPT-mode calls (connectors, account checks) go straight to chatgpt_base_url with
    // Codex's token, not through the gateway: give them a server of their own so they fail fast.
    const sideband = await startMockUpstream({ tag: 'side' });
    after(() => sideband.close());
    const config = [...providerArgs(gw.base, { requiresOpenaiAuth: true }), '-c', `chatgpt_base_url="${sideband.url}/backend-api/"`, ...QUIET_CHATGPT_MODE];
    const run = await runCodex(execArgs('Say hello', config), await codexHome(home, codexAuthJson(codexOwn)));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Hello from C\./);
    const seen = chatgpt.seen.filter((s) => s.path === '/backend-api/codex/responses').at(-1)!;
    assert.equal(seen.headers.authorization, `Bearer ${gate.accessToken}`);
    assert.equal(seen.headers['chatgpt-account-id'], 'acct-gate');
    const everything = JSON.stringify(chatgpt.seen.map((s) => s.headers));
    assert.ok(!everything.includes(codexOwn.accessToken), 'Codex’s own token never reaches the upstream');
  });

  it('serves Codex’s built-in openai provider rerouted by openai_base_url: zstd bodies, WebSocket refused with 426', async () => {
    // In ChatGPT mode the built-in provider compresses bodies and tries a WebSocket first.
    const home = await tempHome();
    const chatgpt = await startMockUpstream({ tag: 'C', models: { models: [] } });
    after(() => chatgpt.close());
    const env = { ...home.env, AIGATE_CHATGPT_BASE_URL: `${chatgpt.url}/backend-api/codex` };
    const gw = await startGateway({ ...home, env }, { env });
    const gate = officialTokens({ accountId: 'acct-gate' });
    await upsertOfficial(gw.store, gw.vault, gate, 'gate');
    let upgrades = 0;
    gw.gateway.server.on('upgrade', () => upgrades++);
    const config = [
      '-c', `openai_base_url="${gw.base}"`,
      // Codex's ChatGPT-mode side calls (connectors, account checks) go to chatgpt_base_url directly,
      // not through the gateway: point them at the mock so they fail fast instead of timing out.
      '-c', `chatgpt_base_url="${chatgpt.url}/backend-api/"`,
      ...QUIET_CHATGPT_MODE,
    ];
    const run = await runCodex(execArgs('Say hello', config), await codexHome(home, codexAuthJson(officialTokens({ accountId: 'acct-codex' }))));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Hello from C\./);
    const seen = chatgpt.seen.filter((s) => s.path === '/backend-api/codex/responses');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.headers['content-encoding'], 'zstd');
    assert.equal(seen[0]!.headers.authorization, `Bearer ${gate.accessToken}`);
    assert.ok(seen[0]!.json?.input, 'the zstd body arrives intact and decodes to the Codex request');
    assert.ok(upgrades >= 1, 'Codex tried a WebSocket first and fell back to HTTP');
  });
});

/**
 * The real Codex CLI against config.toml files AI Gate wrote: `aigate proxy on`
 * routes `codex exec` through the gateway (to a mock upstream behind a
 * third-party account), sessions stay resumable in base-url mode and come back
 * after `--mode provider` + `aigate history migrate`, and `codex mcp list`
 * parses every config AI Gate writes. Four model turns in all.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { addMcp } from '../../src/state/codex/mcp.js';
import { proxyOn } from '../../src/state/codex/proxy.js';
import { codexConfigFile } from '../../src/state/paths.js';
import { addProvider, changedLines, ensureBuilt, openState, ROOT, runCli, startGateway, tempHome, type TempHome } from '../_helpers.js';
import { startMockUpstream, type MockUpstream, type SeenRequest } from '../mock-upstream.js';
import { execArgs, runCodex } from './_codex.js';

const TP_KEY = 'sk-third-party-e2e-0123456789';
const FIXTURES = path.join(ROOT, 'spec/fixtures/config');

const posts = (mock: MockUpstream) => mock.seen.filter((s) => s.method === 'POST');
const inputText = (s: SeenRequest) => JSON.stringify(s.json?.input ?? []);

async function sessionProviders(codexHome: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.jsonl')) out[e.name] = JSON.parse((await fs.readFile(p, 'utf8')).split('\n')[0]!).payload.model_provider;
    }
  };
  await walk(path.join(codexHome, 'sessions'));
  return out;
}

// Set up at the top level: `after` hooks registered here run when the whole file is done.
await ensureBuilt();
const home: TempHome = await tempHome('aigate-e2e-config-');
const mock: MockUpstream = await startMockUpstream({ tag: 'tp' });
after(() => mock.close());
const gw = await startGateway(home);
await addProvider(gw, 'tp', `${mock.url}/v1`, TP_KEY);
const original = await fs.readFile(path.join(FIXTURES, 'commented.toml'));
await fs.writeFile(codexConfigFile(home.paths), original, { mode: 0o644 });

describe('Codex with a config.toml AI Gate wrote', () => {
  const codex = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCodex(args, { home: home.dir, codexHome: home.paths.codexHome, extra });
  const cli = async (...args: string[]) => {
    const r = await runCli(args, home.env);
    assert.equal(r.code, 0, `aigate ${args.join(' ')}: ${r.stderr}`);
    return r;
  };

  it('goes through the gateway after `proxy on`, and still resumes a session from before', async () => {
    // A session recorded under the built-in provider id "openai", before AI Gate touched config.toml.
    const first = await codex(execArgs('remember alpha', ['-c', `openai_base_url="${gw.base}"`]), { CODEX_API_KEY: 'sk-users-own-key' });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(Object.values(await sessionProviders(home.paths.codexHome)), ['openai']);

    const on = JSON.parse((await cli('proxy', 'on', '--gateway-url', gw.gateway.url, '--json')).stdout);
    assert.equal(on.auth, 'placeholder written', 'there was no auth.json: Codex needs a login to start');
    assert.deepEqual(changedLines(on.diff), { added: [`openai_base_url = "${gw.base}"`], removed: [] });

    const before = posts(mock).length;
    const resumed = await codex(execArgs('and now?', [], true));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /Hello from tp\./);
    const sent = posts(mock).slice(before);
    assert.ok(sent.length >= 1);
    for (const s of sent) assert.equal(s.headers.authorization, `Bearer ${TP_KEY}`, 'the gateway replaced the placeholder key');
    assert.match(inputText(sent[sent.length - 1]!), /remember alpha/, 'resume --last found the session from before `on`');
    assert.ok(!mock.seen.some((s) => JSON.stringify(s.headers).includes('aigate-placeholder')));
  });

  it('finds older sessions again after `--mode provider` and `history migrate`', async () => {
    await cli('proxy', 'on', '--mode', 'provider', '--gateway-url', gw.gateway.url);
    const config = await fs.readFile(codexConfigFile(home.paths), 'utf8');
    assert.match(config, /^model_provider = "aigate"$/m);
    assert.doesNotMatch(config, /openai_base_url/);

    const dry = JSON.parse((await cli('history', 'migrate', '--from', 'openai', '--to', 'aigate', '--dry-run', '--json')).stdout);
    assert.equal(dry.rollouts.matched, 1);
    assert.equal(dry.rollouts.changed, 0);
    const real = JSON.parse((await cli('history', 'migrate', '--from', 'openai', '--to', 'aigate', '--json')).stdout);
    assert.equal(real.rollouts.changed, 1);
    assert.ok(real.sqlite.skipped === undefined, real.sqlite.skipped);
    assert.deepEqual(Object.values(await sessionProviders(home.paths.codexHome)), ['aigate']);
    const again = JSON.parse((await cli('history', 'migrate', '--from', 'openai', '--to', 'aigate', '--json')).stdout);
    assert.equal(again.rollouts.changed + again.sqlite.changed, 0);

    const before = posts(mock).length;
    const resumed = await codex(execArgs('still there?', [], true));
    assert.equal(resumed.code, 0, resumed.stderr);
    const sent = posts(mock).slice(before);
    assert.match(inputText(sent[sent.length - 1]!), /remember alpha/, 'the migrated session is the one resumed');
    assert.equal(sent[sent.length - 1]!.headers.authorization, `Bearer ${TP_KEY}`);
  });

  it('shows the MCP servers AI Gate added in `codex mcp list`, and off + remove give back the original bytes', async () => {
    await cli('mcp', 'add', 'docs', '--env', 'LOG=debug', '--', 'npx', '-y', 'docs-mcp');
    await cli('mcp', 'add', 'remote', '--url', 'https://mcp.example.com/mcp', '--bearer-token-env-var', 'REMOTE_TOKEN', '--header', 'X-Team=core');
    await cli('mcp', 'disable', 'remote');
    const listed = await codex(['mcp', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const servers = JSON.parse(listed.stdout) as { name: string; enabled: boolean; transport: { type: string; command?: string; args?: string[]; url?: string } }[];
    const docs = servers.find((s) => s.name === 'docs')!;
    assert.deepEqual([docs.transport.type, docs.transport.command, docs.transport.args, docs.enabled], ['stdio', 'npx', ['-y', 'docs-mcp'], true]);
    const remote = servers.find((s) => s.name === 'remote')!;
    assert.equal(remote.transport.url, 'https://mcp.example.com/mcp');
    assert.equal(remote.enabled, false);

    await cli('proxy', 'off');
    await cli('mcp', 'remove', 'docs');
    await cli('mcp', 'remove', 'remote');
    assert.deepEqual(await fs.readFile(codexConfigFile(home.paths)), original);
  });

  it('parses every config AI Gate writes from the fixture corpus', async () => {
    for (const name of (await fs.readdir(FIXTURES)).filter((f) => f.endsWith('.toml'))) {
      for (const mode of ['base-url', 'provider'] as const) {
        const h = await tempHome('aigate-e2e-corpus-');
        const ctx = await openState(h);
        await fs.copyFile(path.join(FIXTURES, name), codexConfigFile(h.paths));
        await proxyOn(ctx, { mode });
        await addMcp(ctx, 'aigate-check', { command: 'true', args: ['--flag'], env: { A: 'b' }, tool_timeout_sec: 12.5 });
        const r = await runCodex(['mcp', 'list', '--json'], { home: h.dir, codexHome: h.paths.codexHome });
        assert.equal(r.code, 0, `${name} ${mode}: ${r.stderr}`);
        assert.ok((JSON.parse(r.stdout) as { name: string }[]).some((s) => s.name === 'aigate-check'), `${name} ${mode}`);
      }
    }
  });
});


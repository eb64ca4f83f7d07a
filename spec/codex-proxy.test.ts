import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/state/codex/config.js';
import { PLACEHOLDER_AUTH, proxyOff, proxyOn, proxyPlan, proxyStatus } from '../src/state/codex/proxy.js';
import { listBackups } from '../src/state/codex/backups.js';
import { codexAuthFile, codexConfigFile } from '../src/state/paths.js';
import { adminRequest, changedLines, codexAuthJson, ensureBuilt, filesContaining, officialTokens, openState, ROOT, runCli, startGateway, tempHome } from './_helpers.js';

const FIXTURES = path.join(ROOT, 'spec/fixtures/config');
const BASE = 'http://127.0.0.1:6789/ai-router/api';

async function setup(config?: Buffer | string, auth: string | null = codexAuthJson(officialTokens({ accountId: 'acc-1' }))) {
  const home = await tempHome();
  const ctx = await openState(home);
  if (config !== undefined) await fs.writeFile(codexConfigFile(home.paths), config, { mode: 0o644 });
  if (auth !== null) await fs.writeFile(codexAuthFile(home.paths), auth, { mode: 0o600 });
  return { home, ctx, configFile: codexConfigFile(home.paths), authFile: codexAuthFile(home.paths) };
}

const fixtureNames = async () => (await fs.readdir(FIXTURES)).filter((f) => f.endsWith('.toml')).sort();

describe('aigate proxy on/off', () => {
  it('gives back the same bytes after on then off, for every fixture and both modes', async () => {
    for (const name of await fixtureNames()) {
      for (const mode of ['base-url', 'provider'] as const) {
        const original = await fs.readFile(path.join(FIXTURES, name));
        const { ctx, configFile } = await setup(original);
        const on = await proxyOn(ctx, { mode });
        assert.equal(on.changed, true, `${name} ${mode}`);
        assert.equal((await proxyStatus(ctx)).enabled, true, `${name} ${mode}`);
        assert.equal((await fs.stat(configFile)).mode & 0o777, 0o644, `${name}: file mode kept`);
        const off = await proxyOff(ctx);
        assert.equal(off.changed, true);
        assert.deepEqual(await fs.readFile(configFile), original, `${name} ${mode}`);
        assert.equal(ctx.store.data.proxy, undefined);
      }
    }
  });

  it('changes only the lines it must', async () => {
    for (const name of await fixtureNames()) {
      const text = await fs.readFile(path.join(FIXTURES, name), 'utf8');
      const { ctx } = await setup(text);
      const base = changedLines((await proxyPlan(ctx, 'on')).diff);
      const provider = changedLines((await proxyPlan(ctx, 'on', { mode: 'provider' })).diff);
      const nonBlank = (lines: string[]) => lines.filter((l) => l.trim());
      if (name === 'third-party.toml') {
        // The user's own provider: only its base_url moves, in either mode, comment kept.
        const expected = { removed: ['base_url = "https://openrouter.ai/api/v1"   # their Responses endpoint'], added: [`base_url = "${BASE}"   # their Responses endpoint`] };
        assert.deepEqual(base, expected);
        assert.deepEqual(provider, expected);
        continue;
      }
      assert.deepEqual(nonBlank(base.added), [`openai_base_url = "${BASE}"`], name);
      assert.deepEqual(base.removed, name === 'existing-base-url.toml' ? ['openai_base_url = "https://llm-proxy.corp.example/v1"'] : [], name);
      assert.deepEqual(provider.removed, [], name);
      assert.deepEqual(nonBlank(provider.added), [
        'model_provider = "aigate"',
        '[model_providers.aigate]',
        'name = "AI Gate"',
        `base_url = "${BASE}"`,
        'wire_api = "responses"',
        'requires_openai_auth = true',
      ], name);
    }
  });

  it('previews without writing', async () => {
    const { ctx, configFile } = await setup('model = "x"\n');
    const plan = await proxyPlan(ctx, 'on');
    assert.match(plan.diff, /^\+openai_base_url = /m);
    assert.equal(await fs.readFile(configFile, 'utf8'), 'model = "x"\n');
    assert.deepEqual(await listBackups(ctx), []);
  });

  it('refuses a config.toml that does not parse and writes nothing', async () => {
    const { ctx, configFile } = await setup('model = "x"\n[broken\n');
    const before = await fs.stat(configFile);
    await assert.rejects(proxyOn(ctx), (err: ConfigError) => {
      assert.match(err.message, /does not parse at line 2, column \d+: .* AI Gate changed nothing/);
      return true;
    });
    const after = await fs.stat(configFile);
    assert.equal(await fs.readFile(configFile, 'utf8'), 'model = "x"\n[broken\n');
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.deepEqual(await listBackups(ctx), []);
    assert.equal(ctx.store.data.proxy, undefined);
  });

  it('backs up before writing, once: a second on changes nothing', async () => {
    const { ctx } = await setup('model = "x"\n');
    await proxyOn(ctx);
    const again = await proxyOn(ctx);
    assert.equal(again.changed, false);
    const backups = await listBackups(ctx);
    assert.deepEqual(backups.map((b) => b.reason), ['proxy-on']);
    assert.equal(backups[0]!.files.find((f) => f.name === 'config.toml')!.size, 'model = "x"\n'.length);
  });

  it('writes a placeholder login when auth.json has none, and removes it on off', async () => {
    const { ctx, authFile } = await setup('model = "x"\n', null);
    const on = await proxyOn(ctx);
    assert.equal(on.auth, 'placeholder written');
    assert.equal(await fs.readFile(authFile, 'utf8'), PLACEHOLDER_AUTH);
    assert.equal((await fs.stat(authFile)).mode & 0o777, 0o600);
    assert.equal((await proxyStatus(ctx)).authPlaceholder, true);
    await proxyOff(ctx);
    await assert.rejects(fs.stat(authFile), { code: 'ENOENT' });
  });

  it('puts back an unusable auth.json exactly, and leaves a real login alone', async () => {
    const broken = await setup('', '{"auth_mode":"chatgpt","tokens":null}\n');
    await proxyOn(broken.ctx);
    assert.equal(await fs.readFile(broken.authFile, 'utf8'), PLACEHOLDER_AUTH);
    await proxyOff(broken.ctx);
    assert.equal(await fs.readFile(broken.authFile, 'utf8'), '{"auth_mode":"chatgpt","tokens":null}\n');

    const login = codexAuthJson(officialTokens({ accountId: 'acc-2' }));
    const real = await setup('', login);
    assert.equal((await proxyOn(real.ctx)).auth, 'unchanged');
    assert.equal(await fs.readFile(real.authFile, 'utf8'), login);
  });

  it('reports a conflict after an outside edit, and off keeps that edit', async () => {
    const { ctx, configFile } = await setup('# mine\nmodel = "x"\n');
    await proxyOn(ctx);
    const written = await fs.readFile(configFile, 'utf8');
    await fs.writeFile(configFile, written.replace('model = "x"', 'model = "y" # changed by hand') + '\n[tui]\nnotifications = true\n');
    const status = await proxyStatus(ctx);
    assert.equal(status.enabled, true);
    assert.equal(status.conflict, true);
    await proxyOff(ctx);
    assert.equal(await fs.readFile(configFile, 'utf8'), '# mine\nmodel = "y" # changed by hand\n\n[tui]\nnotifications = true\n');
  });

  it('off after an outside edit puts back a value the user had before on', async () => {
    const { ctx, configFile } = await setup(await fs.readFile(path.join(FIXTURES, 'existing-base-url.toml')));
    await proxyOn(ctx);
    await fs.appendFile(configFile, '\n[tui]\nnotifications = true\n');
    await proxyOff(ctx);
    const text = await fs.readFile(configFile, 'utf8');
    assert.match(text, /^openai_base_url = "https:\/\/llm-proxy\.corp\.example\/v1"$/m);
    assert.match(text, /\[tui\]/);
  });

  it('switches modes and still gives back the original bytes', async () => {
    const original = await fs.readFile(path.join(FIXTURES, 'commented.toml'));
    const { ctx, configFile } = await setup(original);
    await proxyOn(ctx);
    const provider = await proxyOn(ctx, { mode: 'provider' });
    assert.equal(provider.status.mode, 'provider');
    assert.doesNotMatch(await fs.readFile(configFile, 'utf8'), /openai_base_url/);
    await proxyOff(ctx);
    assert.deepEqual(await fs.readFile(configFile), original);
  });

  it('creates config.toml when there is none and removes it again', async () => {
    const { ctx, configFile } = await setup(undefined);
    await proxyOn(ctx);
    assert.equal(await fs.readFile(configFile, 'utf8'), `openai_base_url = "${BASE}"\n`);
    await proxyOff(ctx);
    await assert.rejects(fs.stat(configFile), { code: 'ENOENT' });
  });

  it('refuses base-url mode when another built-in provider is selected', async () => {
    const { ctx } = await setup('model_provider = "ollama"\n');
    await assert.rejects(proxyOn(ctx), /model_provider "ollama".*--mode provider/);
    const on = await proxyOn(ctx, { mode: 'provider' });
    assert.equal(on.status.mode, 'provider');
  });

  it('honours --gateway-url', async () => {
    const { ctx, configFile } = await setup('');
    await proxyOn(ctx, { gatewayUrl: 'http://127.0.0.1:7001' });
    assert.equal(await fs.readFile(configFile, 'utf8'), 'openai_base_url = "http://127.0.0.1:7001/ai-router/api"\n');
    await assert.rejects(proxyOn(ctx, { gatewayUrl: 'not a url' }), /is not a URL/);
  });

  it('keeps config.toml secrets out of AI Gate\'s files', async () => {
    const token = 'ghp_configSecret0123456789abcdef';
    const { ctx, home } = await setup(`[mcp_servers.gh]\ncommand = "gh-mcp"\nenv = { GITHUB_TOKEN = "${token}" }\n`, null);
    await proxyOn(ctx);
    await proxyOff(ctx);
    assert.deepEqual(await filesContaining(home.paths.home, [token]), []);
  });
});

describe('admin API: proxy and backups', () => {
  it('previews, switches on and off, and backs up, pointing Codex at the running gateway', async () => {
    const home = await tempHome();
    await fs.writeFile(codexConfigFile(home.paths), '# mine\nmodel = "x"\n');
    const gw = await startGateway(home);
    const base = `${gw.gateway.url}/ai-router/api`;

    const status = await adminRequest(gw, 'GET', '/aigate/api/proxy');
    assert.equal(status.status, 200);
    assert.equal(status.json.enabled, false);

    const diff = await adminRequest(gw, 'GET', '/aigate/api/proxy/diff?action=on&mode=provider');
    assert.equal(diff.status, 200);
    assert.match(diff.json.diff, new RegExp(`^\\+base_url = "${base}"$`, 'm'));
    assert.equal(diff.json.before, undefined);
    assert.equal((await adminRequest(gw, 'GET', '/aigate/api/proxy/diff?action=sideways')).status, 400);

    const bad = await adminRequest(gw, 'POST', '/aigate/api/proxy/on', { body: { mode: 'tunnel' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /mode is base-url .* or provider/);

    const on = await adminRequest(gw, 'POST', '/aigate/api/proxy/on', { body: {} });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.json.status.enabled, true);
    assert.match(on.json.backup, /-proxy-on-/);
    assert.equal(await fs.readFile(codexConfigFile(home.paths), 'utf8'), `# mine\nmodel = "x"\nopenai_base_url = "${base}"\n`);

    const manual = await adminRequest(gw, 'POST', '/aigate/api/backups', { body: { note: 'from the tray' } });
    assert.equal(manual.status, 201);
    assert.equal(manual.json.reason, 'manual');
    const off = await adminRequest(gw, 'POST', '/aigate/api/proxy/off');
    assert.equal(off.json.status.enabled, false);

    const list = await adminRequest(gw, 'GET', '/aigate/api/backups');
    assert.deepEqual(list.json.map((m: { reason: string }) => m.reason), ['proxy-off', 'manual', 'proxy-on']);
    const preview = await adminRequest(gw, 'GET', `/aigate/api/backups/${manual.json.id}/diff`);
    assert.equal(preview.json.find((d: { name: string }) => d.name === 'config.toml').change, 'modify');
    const restored = await adminRequest(gw, 'POST', `/aigate/api/backups/${manual.json.id}/restore`);
    assert.equal(restored.status, 200, restored.text);
    assert.equal(restored.json.preRestore.reason, 'pre-restore');
    assert.match(await fs.readFile(codexConfigFile(home.paths), 'utf8'), /openai_base_url/);

    assert.equal((await adminRequest(gw, 'GET', '/aigate/api/backups/..%2F..%2Fetc/diff')).status, 400);
    assert.equal((await adminRequest(gw, 'POST', '/aigate/api/backups/20200101-000000000-manual-aaaaaa/restore')).status, 404);
    assert.equal((await adminRequest(gw, 'GET', '/aigate/api/proxy', { token: null })).status, 401);
  });

  it('answers 409 naming the line when config.toml does not parse', async () => {
    const home = await tempHome();
    await fs.writeFile(codexConfigFile(home.paths), 'model = \n');
    const gw = await startGateway(home);
    const on = await adminRequest(gw, 'POST', '/aigate/api/proxy/on');
    assert.equal(on.status, 409);
    assert.match(on.json.error.message, /does not parse at line 1, column \d+/);
  });
});

describe('aigate proxy (CLI)', () => {
  it('previews, switches and refuses a broken config.toml with the line, exiting non-zero', async () => {
    await ensureBuilt();
    const home = await tempHome();
    const file = codexConfigFile(home.paths);
    await fs.writeFile(file, 'model = "x"\n');
    const diff = await runCli(['proxy', 'diff'], home.env);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^\+openai_base_url = "http:\/\/127\.0\.0\.1:6789\/ai-router\/api"$/m);
    const on = await runCli(['proxy', 'on', '--gateway-url', 'http://127.0.0.1:7788'], home.env);
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stdout, /Backup \S+-proxy-on-\S+ taken first/);
    const status = JSON.parse((await runCli(['proxy', 'status', '--json'], home.env)).stdout);
    assert.deepEqual([status.enabled, status.mode, status.baseUrl], [true, 'base-url', 'http://127.0.0.1:7788/ai-router/api']);
    await fs.writeFile(file, 'model = "x"\nopenai_base_url = \n');
    const broken = await runCli(['proxy', 'off'], home.env);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /config\.toml does not parse at line 2, column \d+: .* — AI Gate changed nothing/);
    assert.equal(await fs.readFile(file, 'utf8'), 'model = "x"\nopenai_base_url = \n');
  });
});

describe('aigate doctor', () => {
  it('reports each check with what to do, and fails when Codex is pointed at a gateway that is down', async () => {
    await ensureBuilt();
    const home = await tempHome();
    const gw = await startGateway(home);
    await fs.chmod(home.paths.data, 0o755);
    const up = await runCli(['doctor', '--json', '--gateway-url', gw.gateway.url], home.env);
    const report = JSON.parse(up.stdout) as { ok: boolean; checks: { name: string; status: string; message: string; fix?: string }[] };
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    assert.equal(byName.gateway!.status, 'ok');
    assert.equal(byName.proxy!.status, 'warn');
    assert.equal(byName.permissions!.status, 'warn');
    assert.match(byName.permissions!.message, /data is 755, want 700/);
    assert.equal(byName.key!.status, 'warn', 'no keychain here: the key file');
    for (const c of report.checks) if (c.status !== 'ok') assert.ok(c.fix, `${c.name} says what to do`);

    await proxyOn(await openState(home), { gatewayUrl: 'http://127.0.0.1:9' });
    const down = await runCli(['doctor'], home.env);
    assert.equal(down.code, 1);
    assert.match(down.stdout, /FAIL {2}gateway: nothing answers at http:\/\/127\.0\.0\.1:9 .*Codex is pointed at it/);
  });
});

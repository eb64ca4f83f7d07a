import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from '@decimalturn/toml-patch';
import { listBackups } from '../src/state/codex/backups.js';
import { addMcp, editMcp, listMcp, McpError, removeMcp, setMcpEnabled } from '../src/state/codex/mcp.js';
import { codexConfigFile } from '../src/state/paths.js';
import { adminRequest, changedLines, openState, ROOT, startGateway, tempHome } from './_helpers.js';

async function setup(fixture = 'mcp.toml') {
  const home = await tempHome();
  const ctx = await openState(home);
  const file = codexConfigFile(home.paths);
  const original = await fs.readFile(path.join(ROOT, 'spec/fixtures/config', fixture));
  await fs.writeFile(file, original, { mode: 0o640 });
  return { ctx, file, original, read: () => fs.readFile(file, 'utf8') };
}

const rejectsWith = (p: Promise<unknown>, status: number, pattern: RegExp) =>
  assert.rejects(p, (err: McpError) => {
    assert.equal(err.status, status);
    assert.match(err.message, pattern);
    return true;
  });

describe('MCP servers in config.toml', () => {
  it('lists servers without env or header values', async () => {
    const { ctx } = await setup();
    const list = await listMcp(ctx);
    assert.deepEqual(list.map((s) => [s.name, s.transport, s.enabled]), [['docs', 'stdio', true], ['linear', 'http', true], ['sqlite', 'stdio', false]]);
    assert.deepEqual(list[0]!.envNames, ['DOCS_INDEX', 'LOG_LEVEL']);
    assert.deepEqual(list[1]!.httpHeaderNames, ['X-Workspace']);
    assert.doesNotMatch(JSON.stringify(list), /docs-index|acme/);
  });

  it('adds a stdio server beside the others, backed up, mode kept, and removes it to the same bytes', async () => {
    const { ctx, file, original, read } = await setup();
    const added = await addMcp(ctx, 'files', { command: 'npx', args: ['-y', '@mcp/fs', '/tmp'], env: { LOG: 'debug' }, tool_timeout_sec: 30 });
    assert.deepEqual(changedLines(added.diff).added.filter((l) => l.trim()), ['[mcp_servers.files]', 'command = "npx"', 'args = ["-y", "@mcp/fs", "/tmp"]', 'env = { LOG = "debug" }', 'tool_timeout_sec = 30']);
    assert.deepEqual(changedLines(added.diff).removed, []);
    assert.equal(added.server?.transport, 'stdio');
    assert.equal((await fs.stat(file)).mode & 0o777, 0o640);
    assert.deepEqual((await listBackups(ctx)).map((b) => b.reason), ['mcp-edit']);
    assert.match(await read(), /disabled_tools = \["write_query"\]\n\n\[mcp_servers\.files\]/);
    await removeMcp(ctx, 'files');
    assert.deepEqual(await fs.readFile(file), original);
  });

  it('adds an HTTP server', async () => {
    const { ctx, read } = await setup('minimal.toml');
    await addMcp(ctx, 'remote', { url: 'https://mcp.example.com/mcp', bearer_token_env_var: 'REMOTE_TOKEN', http_headers: { 'X-Team': 'core' }, required: true });
    assert.equal(await read(), 'model = "gpt-5.1-codex"\n\n[mcp_servers.remote]\nurl = "https://mcp.example.com/mcp"\nbearer_token_env_var = "REMOTE_TOKEN"\nhttp_headers = { X-Team = "core" }\nrequired = true\n');
  });

  it('disables and enables a server, giving back the same bytes', async () => {
    const { ctx, file, original, read } = await setup();
    const off = await setMcpEnabled(ctx, 'docs', false);
    assert.deepEqual(changedLines(off.diff), { added: ['enabled = false'], removed: [] });
    assert.equal(parse(await read()).mcp_servers.docs.enabled, false);
    await setMcpEnabled(ctx, 'docs', true);
    assert.deepEqual(await fs.readFile(file), original);
    const on = await setMcpEnabled(ctx, 'sqlite', true);
    assert.deepEqual(changedLines(on.diff), { added: [], removed: ['enabled = false'] });
  });

  it('edits keys in place: env in its own section stays a section', async () => {
    const { ctx, read } = await setup();
    const edit = await editMcp(ctx, 'docs', { env: { DOCS_INDEX: '/new/index', LOG_LEVEL: 'warn' }, startup_timeout_sec: 45, enabled_tools: null });
    assert.deepEqual(changedLines(edit.diff), {
      removed: ['startup_timeout_sec = 20', 'enabled_tools = ["search", "open"]', 'DOCS_INDEX = "/home/dev/.cache/docs-index"'],
      added: ['startup_timeout_sec = 45', 'DOCS_INDEX = "/new/index"'],
    });
    assert.match(await read(), /\[mcp_servers\.docs\.env\]\nDOCS_INDEX = "\/new\/index"\nLOG_LEVEL = "warn"/);
  });

  it('refuses mixing stdio and HTTP keys, inline bearer tokens, bad names and unknown keys', async () => {
    const { ctx, file, original } = await setup();
    await rejectsWith(addMcp(ctx, 'mixed', { command: 'x', url: 'https://a.example' }), 400, /mixes stdio keys \(command\) with HTTP keys \(url\)/);
    await rejectsWith(addMcp(ctx, 'tok', { url: 'https://a.example', bearer_token: 'sk-secret' }), 400, /inline bearer_token is refused.*bearer_token_env_var/);
    await rejectsWith(addMcp(ctx, 'bad name', { command: 'x' }), 400, /not a usable MCP server name/);
    await rejectsWith(addMcp(ctx, 'x', { command: 'x', commnad: 'y' }), 400, /unknown key commnad/);
    await rejectsWith(addMcp(ctx, 'x', { args: ['a'] }), 400, /needs either command .* or url/);
    await rejectsWith(addMcp(ctx, 'x', { url: 'ftp://a' }), 400, /url must be an http\(s\) URL/);
    await rejectsWith(addMcp(ctx, 'x', { command: 'x', env: { 'BAD-NAME': '1' } }), 400, /environment variable name/);
    await rejectsWith(addMcp(ctx, 'docs', { command: 'x' }), 409, /already exists; change it with `aigate mcp edit docs`/);
    await rejectsWith(editMcp(ctx, 'linear', { command: 'npx' }), 400, /mixes stdio keys/);
    await rejectsWith(editMcp(ctx, 'ghost', { enabled: false }), 404, /no MCP server "ghost"/);
    await rejectsWith(removeMcp(ctx, 'ghost'), 404, /no MCP server "ghost"/);
    assert.deepEqual(await fs.readFile(file), original);
    assert.deepEqual(await listBackups(ctx), []);
  });

  it('switches a server from stdio to HTTP when the stdio keys are removed in the same edit', async () => {
    const { ctx, read } = await setup();
    await editMcp(ctx, 'sqlite', { command: null, args: null, env_vars: null, cwd: null, url: 'https://db.example/mcp' });
    const entry = parse(await read()).mcp_servers.sqlite;
    assert.deepEqual({ ...entry }, { url: 'https://db.example/mcp', enabled: false, disabled_tools: ['write_query'] });
  });

  it('creates config.toml for the first server', async () => {
    const home = await tempHome();
    const ctx = await openState(home);
    await addMcp(ctx, 'first', { command: 'first-mcp' });
    assert.equal(await fs.readFile(codexConfigFile(home.paths), 'utf8'), '[mcp_servers.first]\ncommand = "first-mcp"\n');
  });
});

describe('admin API: MCP servers', () => {
  it('adds, edits, toggles and removes, answering 400/404/409 with what to fix', async () => {
    const home = await tempHome();
    const gw = await startGateway(home);
    const api = (method: string, p: string, body?: unknown) => adminRequest(gw, method, `/aigate/api${p}`, { body });

    const added = await api('POST', '/mcp', { name: 'files', command: 'npx', args: ['-y', '@mcp/fs'], env: { TOKEN: 'sk-inline-env-value' } });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.json.server.transport, 'stdio');
    assert.match(added.json.backup, /-mcp-edit-/);
    const listed = await api('GET', '/mcp');
    assert.deepEqual(listed.json.map((s: { name: string }) => s.name), ['files']);
    assert.doesNotMatch(listed.text, /sk-inline-env-value/);

    assert.equal((await api('POST', '/mcp', { name: 'files', command: 'x' })).status, 409);
    const mixed = await api('POST', '/mcp', { name: 'both', command: 'x', url: 'https://a.example' });
    assert.equal(mixed.status, 400);
    assert.match(mixed.json.error.message, /mixes stdio keys/);
    assert.match((await api('POST', '/mcp', { command: 'x' })).json.error.message, /name/);
    assert.equal((await api('POST', '/mcp', { name: 'tok', url: 'https://a.example', bearer_token: 'sk-x' })).status, 400);

    const edited = await api('PUT', '/mcp/files', { tool_timeout_sec: 90, env: null });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.json.server.tool_timeout_sec, 90);
    assert.equal((await api('POST', '/mcp/files/disable')).json.server.enabled, false);
    assert.equal((await api('POST', '/mcp/files/enable')).json.server.enabled, true);
    assert.equal((await api('POST', '/mcp/ghost/enable')).status, 404);
    assert.equal((await api('DELETE', '/mcp/files')).status, 200);
    assert.equal(await fs.readFile(codexConfigFile(home.paths), 'utf8'), '');
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from '@decimalturn/toml-patch';
import { ConfigError, configDiff, parseConfig, readCodexConfig } from '../src/state/codex/config.js';
import { editToml, TomlEditError } from '../src/state/codex/toml-edit.js';
import { changedLines, ROOT, tempHome } from './_helpers.js';

const FIXTURES = path.join(ROOT, 'spec/fixtures/config');
const fixtures = async () => (await fs.readdir(FIXTURES)).filter((f) => f.endsWith('.toml')).sort();
const read = (name: string) => fs.readFile(path.join(FIXTURES, name), 'utf8');

describe('config.toml edits', () => {
  it('adds and removes a top-level key on every fixture, giving back the same bytes', async () => {
    for (const name of (await fixtures()).filter((f) => f !== 'existing-base-url.toml')) {
      const text = await read(name);
      const on = editToml(text, [{ op: 'set', path: ['openai_base_url'], value: 'http://127.0.0.1:6789/ai-router/api' }]);
      assert.equal(parse(on).openai_base_url, 'http://127.0.0.1:6789/ai-router/api', name);
      const { added, removed } = changedLines(configDiff(text, on));
      assert.deepEqual(removed, [], name);
      assert.deepEqual(added.filter((l) => l.trim()), ['openai_base_url = "http://127.0.0.1:6789/ai-router/api"'], name);
      assert.equal(editToml(on, [{ op: 'delete', path: ['openai_base_url'] }]), text, name);
    }
  });

  it('adds a table beside its siblings and removes it again byte for byte', async () => {
    for (const name of await fixtures()) {
      const text = await read(name);
      const on = editToml(text, [{ op: 'add-table', path: ['mcp_servers', 'added'], value: { command: 'npx', args: ['-y', 'x'], env: { A: 'b' } } }]);
      assert.deepEqual(JSON.parse(JSON.stringify(parse(on).mcp_servers.added)), { command: 'npx', args: ['-y', 'x'], env: { A: 'b' } }, name);
      const { added, removed } = changedLines(configDiff(text, on));
      assert.deepEqual(removed, [], name);
      assert.deepEqual(added.filter((l) => l.trim()), ['[mcp_servers.added]', 'command = "npx"', 'args = ["-y", "x"]', 'env = { A = "b" }'], name);
      assert.equal(editToml(on, [{ op: 'delete', path: ['mcp_servers', 'added'] }]), text, name);
    }
  });

  it('keeps CRLF line endings in what it adds', async () => {
    const text = await read('crlf.toml');
    const on = editToml(text, [
      { op: 'set', path: ['openai_base_url'], value: 'x' },
      { op: 'add-table', path: ['model_providers', 'aigate'], value: { name: 'AI Gate' } },
    ]);
    assert.equal(on.replace(/\r\n/g, '').includes('\n'), false);
  });

  it('changes a value in place and keeps the comment on its line', async () => {
    const text = await read('third-party.toml');
    const out = editToml(text, [{ op: 'set', path: ['model_providers', 'openrouter', 'base_url'], value: 'http://127.0.0.1:6789/ai-router/api' }]);
    assert.deepEqual(changedLines(configDiff(text, out)), {
      removed: ['base_url = "https://openrouter.ai/api/v1"   # their Responses endpoint'],
      added: ['base_url = "http://127.0.0.1:6789/ai-router/api"   # their Responses endpoint'],
    });
  });

  it('adds a key to a table after its last key, not after the next table\'s comment', async () => {
    const text = await read('mcp.toml');
    const out = editToml(text, [{ op: 'set', path: ['mcp_servers', 'linear', 'enabled'], value: false }]);
    const lines = out.split('\n');
    assert.equal(lines[lines.indexOf('required = true') + 1], 'enabled = false');
    assert.deepEqual(changedLines(configDiff(text, out)), { added: ['enabled = false'], removed: [] });
  });

  it('removes a table with its sub-tables and keeps the comment heading the next one', async () => {
    const text = await read('mcp.toml');
    const out = editToml(text, [{ op: 'delete', path: ['mcp_servers', 'docs'] }]);
    assert.equal(parse(out).mcp_servers.docs, undefined);
    assert.match(out, /# Remote server with a token from the environment\n\[mcp_servers\.linear\]/);
    assert.match(out, /# Documentation search over stdio\n/); // a comment above a table is the user's prose; it stays
  });

  it('edits inside an inline table by rewriting only that value', () => {
    const text = 'a = 1\nmcp_servers = { x = { command = "a" } } # inline\n';
    const out = editToml(text, [{ op: 'set', path: ['mcp_servers', 'x', 'enabled'], value: false }]);
    assert.equal(out, 'a = 1\nmcp_servers = { x = { command = "a", enabled = false } } # inline\n');
  });

  it('refuses to edit inside an array of tables', async () => {
    const text = await read('hooks-notify.toml');
    assert.throws(() => editToml(text, [{ op: 'set', path: ['hooks', 'session_start', 'x'], value: 1 }]), TomlEditError);
  });

  it('keeps a leading byte-order mark', () => {
    const text = '\uFEFFmodel = "x"\n';
    const on = editToml(text, [{ op: 'set', path: ['openai_base_url'], value: 'y' }]);
    assert.equal(on, '\uFEFFmodel = "x"\nopenai_base_url = "y"\n');
    assert.equal(editToml(on, [{ op: 'delete', path: ['openai_base_url'] }]), text);
  });
});

describe('reading config.toml', () => {
  it('names the line and column of a syntax error and leaves the quoted line out', () => {
    assert.throws(
      () => parseConfig('model = "x"\nsecret_ish = = "sk-abc"\n'),
      (err: ConfigError) => {
        assert.equal(err.line, 2);
        assert.equal(err.column, 14);
        assert.match(err.message, /does not parse at line 2, column 14: .* — AI Gate changed nothing/);
        assert.doesNotMatch(err.message, /sk-abc/);
        return true;
      },
    );
  });

  it('reads a missing file as empty', async () => {
    const home = await tempHome();
    const config = await readCodexConfig(home.paths);
    assert.equal(config.exists, false);
    assert.deepEqual({ ...config.data }, {});
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { listBackups, restoreBackup } from '../src/state/codex/backups.js';
import { migrateHistory, retag } from '../src/state/codex/history.js';
import { ensureBuilt, openState, runCli, tempHome, type TempHome } from './_helpers.js';

/** A session_meta line shaped like Codex 0.169's, with text that mentions model_provider inside a string. */
function metaLine(id: string, provider: string): string {
  return JSON.stringify({
    timestamp: '2026-11-24T05:53:09.703Z',
    ordinal: 0,
    type: 'session_meta',
    payload: { session_id: id, id, cwd: '/home/dev/app', originator: 'codex_exec', cli_version: '0.169.0', source: 'exec', model_provider: provider, base_instructions: { text: 'Set "model_provider":"x" in config.toml — ünïcode ✓' } },
  });
}

async function writeRollout(home: TempHome, rel: string, id: string, provider: string): Promise<string> {
  const file = path.join(home.paths.codexHome, rel, `rollout-2026-11-24T05-53-09-${id}.jsonl`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const rest = [{ type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `hi ${id}` }] } }];
  await fs.writeFile(file, metaLine(id, provider) + '\n' + rest.map((r) => JSON.stringify(r)).join('\n') + '\n', { mode: 0o644 });
  return file;
}

async function setup() {
  const home = await tempHome();
  const ctx = await openState(home);
  const files = {
    a: await writeRollout(home, 'sessions/2026/11/20', 'aaaa', 'openai'),
    b: await writeRollout(home, 'sessions/2026/11/21', 'bbbb', 'openai'),
    c: await writeRollout(home, 'sessions/2026/11/22', 'cccc', 'other'),
    d: await writeRollout(home, 'archived_sessions', 'dddd', 'openai'),
  };
  const broken = path.join(home.paths.codexHome, 'sessions/2026/11/23/rollout-broken.jsonl');
  await fs.mkdir(path.dirname(broken), { recursive: true });
  await fs.writeFile(broken, 'not json\n');
  const dbFile = path.join(home.paths.codexHome, 'state_5.sqlite');
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE threads (id TEXT PRIMARY KEY, rollout_path TEXT NOT NULL, model_provider TEXT NOT NULL, title TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO threads VALUES (?, ?, ?, ?)');
  for (const [key, id, provider] of [['a', 'aaaa', 'openai'], ['b', 'bbbb', 'openai'], ['c', 'cccc', 'other'], ['d', 'dddd', 'openai']] as const) insert.run(id, files[key], provider, `title ${id}`);
  db.close();
  return { home, ctx, files, dbFile };
}

const providers = (dbFile: string) => {
  const db = new Database(dbFile, { readonly: true });
  const rows = db.prepare('SELECT id, model_provider FROM threads ORDER BY id').all() as { id: string; model_provider: string }[];
  db.close();
  return Object.fromEntries(rows.map((r) => [r.id, r.model_provider]));
};
const readAll = async (files: Record<string, string>) => Object.fromEntries(await Promise.all(Object.entries(files).map(async ([k, f]) => [k, await fs.readFile(f)])));

describe('history migrate', () => {
  it('re-tags only the provider string, keeping every other byte', () => {
    const line = metaLine('x', 'openai');
    const out = retag(line, 'openai', 'aigate')!;
    assert.equal(out, line.replace('"model_provider":"openai"', '"model_provider":"aigate"'));
    assert.match(out, /Set \\"model_provider\\":\\"x\\" in config/);
    assert.equal(retag(line, 'other', 'aigate'), undefined);
  });

  it('counts on a dry run and changes nothing', async () => {
    const { ctx, files, dbFile } = await setup();
    const before = await readAll(files);
    const dry = await migrateHistory(ctx, { from: 'openai', to: 'aigate', dryRun: true });
    assert.deepEqual(dry.rollouts, { scanned: 5, matched: 3, changed: 0, inUse: 0, unreadable: 1 });
    assert.deepEqual(dry.sqlite, { present: true, matched: 3, changed: 0 });
    assert.deepEqual(await readAll(files), before);
    assert.equal(providers(dbFile).aaaa, 'openai');
    assert.deepEqual(await listBackups(ctx), []);
  });

  it('migrates after a backup, is idempotent, and the backup restores the old bytes', async () => {
    const { ctx, files, dbFile } = await setup();
    const before = await readAll(files);
    const real = await migrateHistory(ctx, { from: 'openai', to: 'aigate', dryRun: false });
    assert.deepEqual(real.rollouts, { scanned: 5, matched: 3, changed: 3, inUse: 0, unreadable: 1 });
    assert.deepEqual(real.sqlite, { present: true, matched: 3, changed: 3 });
    const after = await readAll(files);
    for (const k of ['a', 'b', 'd']) {
      assert.equal(after[k]!.toString(), before[k]!.toString().replace('"model_provider":"openai"', '"model_provider":"aigate"'));
      assert.equal((await fs.stat(files[k as 'a'])).mode & 0o777, 0o644);
    }
    assert.deepEqual(after.c, before.c);
    assert.deepEqual(providers(dbFile), { aaaa: 'aigate', bbbb: 'aigate', cccc: 'other', dddd: 'aigate' });

    const [backup] = await listBackups(ctx);
    assert.equal(backup!.id, real.backup);
    assert.equal(backup!.reason, 'history-migrate');
    assert.deepEqual(backup!.files.map((f) => f.name).slice(3).sort(), ['archived_sessions/rollout-2026-11-24T05-53-09-dddd.jsonl', 'sessions/2026/11/20/rollout-2026-11-24T05-53-09-aaaa.jsonl', 'sessions/2026/11/21/rollout-2026-11-24T05-53-09-bbbb.jsonl', 'state_5.sqlite']);

    const again = await migrateHistory(ctx, { from: 'openai', to: 'aigate', dryRun: false });
    assert.equal(again.rollouts.matched + again.rollouts.changed + again.sqlite.changed, 0);
    assert.equal(again.backup, undefined);
    assert.equal((await listBackups(ctx)).length, 1);

    await restoreBackup(ctx, real.backup!);
    assert.deepEqual(await readAll(files), before);
    assert.equal(providers(dbFile).aaaa, 'openai');
  });

  it('the reverse migration gives back the original bytes', async () => {
    const { ctx, files } = await setup();
    const before = await readAll(files);
    await migrateHistory(ctx, { from: 'openai', to: 'aigate', dryRun: false });
    await migrateHistory(ctx, { from: 'aigate', to: 'openai', dryRun: false });
    assert.deepEqual(await readAll(files), before);
  });

  it('leaves a rollout that a running process holds open', { skip: process.platform !== 'linux' }, async () => {
    const { ctx, files, dbFile } = await setup();
    const handle = await fs.open(files.a, 'a');
    try {
      const result = await migrateHistory(ctx, { from: 'openai', to: 'aigate', dryRun: false });
      assert.equal(result.rollouts.inUse, 1);
      assert.equal(result.rollouts.changed, 2);
      assert.equal(result.sqlite.changed, 2, 'its thread keeps its tag in the index too');
      assert.match(await fs.readFile(files.a, 'utf8'), /"model_provider":"openai"/);
      assert.equal(providers(dbFile).aaaa, 'openai');
    } finally {
      await handle.close();
    }
  });

  it('refuses bad provider ids and a no-op pair', async () => {
    const { ctx } = await setup();
    await assert.rejects(migrateHistory(ctx, { from: 'open ai', to: 'aigate', dryRun: true }), /not a provider id/);
    await assert.rejects(migrateHistory(ctx, { from: 'openai', to: 'openai', dryRun: true }), /nothing to migrate/);
  });

  it('prints the counts from the CLI', async () => {
    await ensureBuilt();
    const { home } = await setup();
    const dry = await runCli(['history', 'migrate', '--from', 'openai', '--to', 'aigate', '--dry-run'], home.env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would re-tag 3 of 5 session files .* and 3 threads in state_5\.sqlite/);
    const json = await runCli(['history', 'migrate', '--from', 'openai', '--to', 'aigate', '--json'], home.env);
    assert.equal(JSON.parse(json.stdout).rollouts.changed, 3);
  });
});

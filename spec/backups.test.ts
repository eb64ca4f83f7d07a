import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { addThirdParty } from '../src/state/accounts.js';
import { AUTOMATIC_KEPT, backupDiff, checkBackupId, createBackup, listBackups, pruneBackups, restoreBackup, type BackupError } from '../src/state/codex/backups.js';
import { backupsDir, codexAuthFile, codexConfigFile, storeFile } from '../src/state/paths.js';
import { codexAuthJson, filesContaining, officialTokens, openState, tempHome } from './_helpers.js';

async function setup() {
  const home = await tempHome();
  const ctx = await openState(home);
  const tokens = officialTokens({ accountId: 'acc-b' });
  const files = { config: codexConfigFile(home.paths), auth: codexAuthFile(home.paths), store: storeFile(home.paths) };
  await fs.writeFile(files.config, '# mine\nmodel = "gpt-5.1-codex"\n', { mode: 0o644 });
  await fs.writeFile(files.auth, codexAuthJson(tokens), { mode: 0o600 });
  await addThirdParty(ctx.store, ctx.vault, { name: 'p1', baseUrl: 'https://api.example.com/v1', apiKey: 'sk-backup-test-key-0123456789' });
  return { home, ctx, tokens, files };
}

const snapshot = async (files: Record<string, string>) =>
  Object.fromEntries(await Promise.all(Object.entries(files).map(async ([k, f]) => [k, await fs.readFile(f).catch(() => null)])));

describe('backups', () => {
  it('restores every file to identical bytes, after snapshotting the current state', async () => {
    const { ctx, files } = await setup();
    const before = await snapshot(files);
    const backup = await createBackup(ctx, { reason: 'manual', note: 'before experiments' });
    assert.deepEqual(backup.files.map((f) => [f.name, f.present]), [['config.toml', true], ['auth.json', true], ['store.json', true]]);

    await fs.writeFile(files.config, 'model = "changed"\n');
    await fs.rm(files.auth);
    await addThirdParty(ctx.store, ctx.vault, { name: 'p2', baseUrl: 'https://b.example.com/v1', apiKey: 'sk-other-key-0123456789' });
    const changed = await snapshot(files);

    const { restored, preRestore } = await restoreBackup(ctx, backup.id);
    assert.equal(restored.id, backup.id);
    assert.deepEqual(await snapshot(files), before);
    assert.equal((await fs.stat(files.config)).mode & 0o777, 0o644);
    assert.equal((await fs.stat(files.auth)).mode & 0o777, 0o600);

    assert.equal(preRestore.reason, 'pre-restore');
    assert.deepEqual(preRestore.files.find((f) => f.name === 'auth.json')!.present, false);
    // Undoing the restore gives back the changed state: the pre-restore snapshot is complete.
    await restoreBackup(ctx, preRestore.id);
    assert.deepEqual(await snapshot(files), changed);
  });

  it('keeps tokens and keys out of every file under $AIGATE_HOME, manifests included', async () => {
    const { ctx, home, tokens } = await setup();
    const backup = await createBackup(ctx, { reason: 'manual' });
    const secrets = [tokens.accessToken, tokens.refreshToken, tokens.idToken, 'sk-backup-test-key-0123456789'];
    assert.deepEqual(await filesContaining(home.paths.home, secrets), []);
    const manifest = await fs.readFile(path.join(backupsDir(home.paths), backup.id, 'manifest.json'), 'utf8');
    assert.match(manifest, /"sha256": "[0-9a-f]{64}"/);
    const dirMode = (await fs.stat(path.join(backupsDir(home.paths), backup.id))).mode & 0o777;
    assert.equal(dirMode, 0o700);
  });

  it('shows what a restore would change, without showing auth.json', async () => {
    const { ctx, files, tokens } = await setup();
    const backup = await createBackup(ctx, { reason: 'manual' });
    await fs.writeFile(files.config, '# mine\nmodel = "other"\n');
    await fs.writeFile(files.auth, codexAuthJson(officialTokens({ accountId: 'acc-c' })));
    const diffs = await backupDiff(ctx, backup.id);
    const config = diffs.find((d) => d.name === 'config.toml')!;
    assert.equal(config.change, 'modify');
    assert.match(config.diff!, /^-model = "other"$/m);
    assert.match(config.diff!, /^\+model = "gpt-5\.1-codex"$/m);
    const auth = diffs.find((d) => d.name === 'auth.json')!;
    assert.deepEqual(auth, { name: 'auth.json', path: files.auth, change: 'modify' });
    assert.doesNotMatch(JSON.stringify(diffs), new RegExp(tokens.refreshToken));
    assert.equal(diffs.find((d) => d.name === 'store.json')!.change, 'unchanged');
  });

  it('keeps every manual snapshot and the newest automatic ones', async () => {
    const { ctx } = await setup();
    const manual = [await createBackup(ctx, { reason: 'manual' })];
    const automatic = [];
    for (let i = 0; i < AUTOMATIC_KEPT + 3; i++) automatic.push(await createBackup(ctx, { reason: i % 2 ? 'proxy-on' : 'mcp-edit' }));
    manual.push(await createBackup(ctx, { reason: 'manual' }));
    const ids = (await listBackups(ctx)).map((m) => m.id);
    assert.equal(ids.length, AUTOMATIC_KEPT + 2);
    for (const m of manual) assert.ok(ids.includes(m.id), 'manual kept');
    for (const m of automatic.slice(0, 3)) assert.ok(!ids.includes(m.id), 'oldest automatic pruned');
    for (const m of automatic.slice(3)) assert.ok(ids.includes(m.id), 'newest automatic kept');
    assert.equal(ids[0], manual[1]!.id, 'newest first');
    assert.deepEqual((await pruneBackups(ctx)).removed, []);
  });

  it('refuses ids that are not snapshot ids, and tampered snapshots', async () => {
    const { ctx, home, files } = await setup();
    for (const bad of ['../../etc', '20260101-000000000-manual-abc123/..', '', 'x']) {
      assert.throws(() => checkBackupId(bad), (e: BackupError) => e.status === 400 && /not a backup id/.test(e.message));
    }
    await assert.rejects(restoreBackup(ctx, '20260101-000000000-manual-abc123'), (e: BackupError) => e.status === 404);

    const backup = await createBackup(ctx, { reason: 'manual' });
    const manifestFile = path.join(backupsDir(home.paths), backup.id, 'manifest.json');
    const manifest = JSON.parse(await fs.readFile(manifestFile, 'utf8'));
    manifest.files[0].path = path.join(home.dir, 'elsewhere.toml');
    await fs.writeFile(manifestFile, JSON.stringify(manifest));
    await assert.rejects(restoreBackup(ctx, backup.id), /outside \$CODEX_HOME/);

    const second = await createBackup(ctx, { reason: 'manual' });
    await fs.writeFile(files.config, 'model = "now"\n');
    const blob = path.join(backupsDir(home.paths), second.id, 'files', '0.sealed');
    await fs.writeFile(blob, ctx.vault.seal(Buffer.from('model = "forged"\n').toString('base64')));
    await assert.rejects(restoreBackup(ctx, second.id), /does not match its recorded hash; nothing was restored/);
    assert.equal(await fs.readFile(files.config, 'utf8'), 'model = "now"\n');
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createBackup } from '../../src/state/codex/backups.js';
import { codexAuthJson, ensureBuilt, officialTokens, runCli, startGateway, tempHome } from '../_helpers.js';
import { launchChromium, openPopover, pageProblems, screenshot } from './_chromium.js';

const BEFORE = '# before the experiment\nmodel = "gpt-5.1-codex"\n';
const AFTER = '# after the experiment\nmodel = "o3"\n';

await ensureBuilt();
const home = await tempHome();
const configFile = path.join(home.paths.codexHome, 'config.toml');
const tokens = officialTokens({ accountId: 'acct-1' });
await fs.writeFile(configFile, BEFORE);
await fs.writeFile(path.join(home.paths.codexHome, 'auth.json'), codexAuthJson(tokens));
const running = await startGateway(home);
const ctx = { paths: running.paths, store: running.store, vault: running.vault };
const snapshot = await createBackup(ctx, { reason: 'manual', note: 'known good' });
await fs.writeFile(configFile, AFTER);
const browser = await launchChromium();

async function cliBackups(): Promise<{ id: string; reason: string; note?: string }[]> {
  const r = await runCli(['backup', 'list', '--json'], home.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('Backups popover', () => {
  it('lists the snapshots and creates a new one with a note', async () => {
    const page = await openPopover(browser, running, 'backups');
    await page.locator(`li.backup[data-id="${snapshot.id}"]`).waitFor();
    assert.match(await page.locator(`li.backup[data-id="${snapshot.id}"]`).innerText(), /manual[\s\S]*known good · config\.toml, auth\.json/);
    await page.locator('[data-testid="backup-form"] input[name="note"]').fill('from the popover');
    await page.click('[data-testid="backup-create"]');
    await page.locator('.note.ok').waitFor();
    const listed = await cliBackups();
    assert.equal(listed.length, 2);
    assert.equal(listed[0]!.note, 'from the popover');
    await page.locator(`li.backup[data-id="${listed[0]!.id}"]`).waitFor();
    assert.deepEqual(pageProblems(page), []);
    await screenshot(page, 'backups-light');
  });

  it('restores after showing what will change, as the CLI and the file then show', async () => {
    // Opened the way the tray's Restore submenu opens it: straight to the confirmation.
    const page = await openPopover(browser, running, 'backups', { params: { restore: snapshot.id } });
    const preview = page.locator('[data-testid="restore-preview"]');
    await preview.waitFor();
    const text = await preview.innerText();
    assert.match(text, /config\.toml — changes/);
    assert.match(text, /-# after the experiment/);
    assert.match(text, /\+# before the experiment/);
    assert.doesNotMatch(text, /auth\.json/, 'auth.json did not change, so it is not listed');
    assert.doesNotMatch(await page.content(), new RegExp(tokens.refreshToken));
    await screenshot(page, 'backups-restore-confirm');
    await page.locator(`li.backup[data-id="${snapshot.id}"] [data-testid="confirm"]`).click();
    await page.locator('.note.ok').waitFor();
    assert.match(await page.locator('.note.ok').innerText(), /Restored\. What was there before is saved as backup \S+-pre-restore-/);
    assert.equal(await fs.readFile(configFile, 'utf8'), BEFORE);
    const listed = await cliBackups();
    assert.equal(listed[0]!.reason, 'pre-restore');
    const diff = await runCli(['backup', 'diff', snapshot.id, '--json'], home.env);
    assert.deepEqual(JSON.parse(diff.stdout).map((f: { change: string }) => f.change).filter((c: string) => c !== 'unchanged'), []);
  });

  it('lets the restore be cancelled without changing anything', async () => {
    await fs.writeFile(configFile, AFTER);
    const page = await openPopover(browser, running, 'backups', { lang: 'zh-CN' });
    await page.locator(`li.backup[data-id="${snapshot.id}"] [data-testid="restore"]`).click();
    await page.locator('[data-testid="restore-preview"]').waitFor();
    assert.match(await page.locator('[data-testid="restore-preview"]').innerText(), /config\.toml — 将被修改/);
    await screenshot(page, 'backups-restore-zh-CN');
    await page.locator('.confirm button', { hasText: '取消' }).click();
    await page.locator('[data-testid="restore-preview"]').waitFor({ state: 'detached' });
    assert.equal(await fs.readFile(configFile, 'utf8'), AFTER);
  });
});

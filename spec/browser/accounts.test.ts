import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startMockAuth } from '../mock-auth.js';
import { startMockUpstream } from '../mock-upstream.js';
import { addOfficial, addProvider, codexAuthJson, ensureBuilt, officialTokens, runCli, startGateway, tempHome, TestClock } from '../_helpers.js';
import { launchChromium, openPopover as openAt, pageProblems, screenshot, type PopoverOptions } from './_chromium.js';

const HOUR = 3600_000;
/**
 * The gateway and every page run at 09:00 local time on a day without a DST change anywhere, so a
 * cooldown three hours ahead reads "resets 12:00" in any time zone, at any hour the suite runs.
 */
const NOW = new Date(2026, 5, 10, 9, 0).getTime();
const openPopover = (b: typeof browser, r: typeof running, view: string, options: PopoverOptions = {}) => openAt(b, r, view, { now: NOW, ...options });

// Shared by every test below; the helpers clean up after the file.
await ensureBuilt();
const home = await tempHome();
const upstream = await startMockUpstream({ tag: 'relay' });
const auth = await startMockAuth({ email: 'new@chatgpt.example', accountId: 'acct-new' });
after(() => Promise.all([upstream.close(), auth.close()]));
const running = await startGateway(home, { clock: new TestClock(NOW), env: { ...home.env, AIGATE_AUTH_ISSUER: auth.url, AIGATE_LOGIN_PORT: String(await freePort()) } });
await addOfficial(running, 'work', { accountId: 'acct-work', email: 'me@work.example' });
await addProvider(running, 'relay', upstream.url);
await addOfficial(running, 'spare', { accountId: 'acct-spare', email: 'spare@example.com' });
const now = NOW;
await running.store.update((d) => {
  d.accounts[0]!.quota = { primary: { usedPercent: 42, resetsAt: now + 2 * HOUR }, secondary: { usedPercent: 81, resetsAt: now + 50 * HOUR }, updatedAt: now };
  // work burns 40 % of its 5-hour window an hour: the 58 % left lasts until about 10:25, before the 11:00 reset.
  d.accounts[0]!.quotaSamples = [22, 32, 42].map((primary, i) => ({ at: now - (30 - 15 * i) * 60_000, primary, secondary: 81 }));
  d.accounts[2]!.health = { state: 'cooling', until: now + 3 * HOUR, reason: 'usage limit' };
  d.accounts[2]!.quota = { primary: { usedPercent: 100, resetsAt: now + 3 * HOUR }, secondary: { usedPercent: 64 }, updatedAt: now };
});
const browser = await launchChromium();

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function cli(...args: string[]) {
  const r = await runCli([...args, '--json'], home.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('Accounts popover', () => {
  it('shows every account with its kind, state, quota bars and the active one marked', async () => {
    const page = await openPopover(browser, running, 'accounts');
    const rows = page.locator('li.account');
    await rows.nth(2).waitFor();
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-name'))), ['work', 'relay', 'spare']);
    const work = page.locator('li.account[data-name="work"]');
    assert.equal(await work.getAttribute('data-active'), 'true');
    assert.match(await work.innerText(), /ChatGPT Plus · me@work\.example/);
    assert.deepEqual(await work.locator('[role="meter"]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-valuenow'))), ['42', '81']);
    assert.equal(await work.locator('[data-testid="forecast"]').innerText(), 'runs out ~10:25 at this pace');
    assert.match(await page.locator('li.account[data-name="relay"]').innerText(), /API · 127\.0\.0\.1:\d+/);
    const spare = page.locator('li.account[data-name="spare"]');
    assert.equal(await spare.getAttribute('data-state'), 'cooling');
    assert.equal(await spare.locator('.account-status').innerText(), 'cooling down · resets 12:00');
    assert.deepEqual(pageProblems(page), []);
    await screenshot(page, 'accounts-light');
    const dark = await openPopover(browser, running, 'accounts', { colorScheme: 'dark' });
    await screenshot(dark, 'accounts-dark');
    const zh = await openPopover(browser, running, 'accounts', { lang: 'zh-CN' });
    assert.match(await zh.locator('li.account[data-name="spare"] .account-status').innerText(), /冷却中 · 12:00 重置/);
    assert.equal(await zh.locator('li.account[data-name="work"] [data-testid="forecast"]').innerText(), '按此速度约 10:25 用完');
    await screenshot(zh, 'accounts-zh-CN');
  });

  it('adds a third-party account that the CLI then lists', async () => {
    const page = await openPopover(browser, running, 'accounts');
    await page.click('[data-testid="add-api-key"]');
    const form = page.locator('[data-testid="api-key-form"]');
    await form.locator('input[name="name"]').fill('bad name!');
    await form.locator('input[name="baseUrl"]').fill(upstream.url);
    await form.locator('input[name="apiKey"]').fill('sk-relay2-secret-000000');
    await form.locator('button[type="submit"]').click();
    await form.locator('.error').waitFor();
    assert.match(await form.locator('.error').innerText(), /not a usable account name/);
    await form.locator('input[name="name"]').fill('relay2');
    await form.locator('button[type="submit"]').click();
    await page.locator('li.account[data-name="relay2"]').waitFor();
    assert.match(await page.locator('.note.ok').innerText(), /Added relay2/);
    const listed = await cli('accounts', 'list');
    const added = listed.find((a: { name: string }) => a.name === 'relay2');
    assert.ok(added, 'the CLI does not list relay2');
    assert.equal(added.kind, 'third-party');
    assert.equal(added.baseUrl, upstream.url.replace(/\/+$/, ''));
    assert.equal(added.secret, 'set');
  });

  it('switches the active account, which the CLI then reports', async () => {
    const page = await openPopover(browser, running, 'accounts');
    await page.locator('li.account[data-name="relay"] [data-testid="use"]').click();
    await page.locator('li.account[data-name="relay"][data-active="true"]').waitFor();
    const listed = await cli('accounts', 'list');
    assert.deepEqual(listed.filter((a: { active: boolean }) => a.active).map((a: { name: string }) => a.name), ['relay']);
  });

  it('reorders by drag and disables an account, as the CLI then shows', async () => {
    const page = await openPopover(browser, running, 'accounts');
    await page.locator('li.account[data-name="spare"]').dragTo(page.locator('li.account[data-name="work"]'));
    await page.waitForFunction(() => document.querySelector('li.account')?.getAttribute('data-name') === 'spare');
    await page.locator('li.account[data-name="work"] input[role="switch"]').click();
    await page.locator('li.account[data-name="work"][data-state="disabled"]').waitFor();
    const listed = await cli('accounts', 'list');
    assert.deepEqual(listed.map((a: { name: string }) => a.name).slice(0, 3), ['spare', 'work', 'relay']);
    assert.equal(listed.find((a: { name: string }) => a.name === 'work').enabled, false);
  });

  it("imports Codex's own login, which the CLI then lists", async () => {
    await fs.writeFile(path.join(home.paths.codexHome, 'auth.json'), codexAuthJson(officialTokens({ accountId: 'acct-codex', email: 'codex@example.com' })));
    const page = await openPopover(browser, running, 'accounts');
    await page.click('[data-testid="import"]');
    await page.locator('.note.ok').waitFor();
    assert.match(await page.locator('.note.ok').innerText(), /Imported codex from Codex/);
    await page.locator('li.account[data-name="codex"]').waitFor();
    const listed = await cli('accounts', 'list');
    assert.equal(listed.find((a: { name: string }) => a.name === 'codex')?.email, 'codex@example.com');
  });

  it('signs in with ChatGPT in the system browser (here: a popup) and shows the new account', async () => {
    const page = await openPopover(browser, running, 'accounts');
    const popup = page.waitForEvent('popup');
    await page.click('[data-testid="sign-in"]');
    // The page opens the gateway's PKCE sign-in; the mock issuer approves and redirects to the gateway's callback.
    const opened = await popup;
    await opened.waitForLoadState();
    assert.match(auth.lastAuthorize?.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+\/auth\/callback$/);
    await page.locator('.note.ok').waitFor({ timeout: 15_000 });
    assert.match(await page.locator('.note.ok').innerText(), /Signed in as new/);
    await page.locator('li.account[data-name="new"]').waitFor();
    const listed = await cli('accounts', 'list');
    assert.equal(listed.find((a: { name: string }) => a.name === 'new')?.email, 'new@chatgpt.example');
  });

  it("sets an account's own upstream proxy, refuses a bad one, and shows the password masked", async () => {
    const page = await openPopover(browser, running, 'accounts');
    const row = page.locator('li.account[data-name="relay"]');
    assert.match(await row.locator('[data-testid="proxy-value"]').innerText(), /default/);
    await row.locator('[data-testid="proxy-change"]').click();
    await row.locator('input[name="upstreamProxy"]').fill('ftp://px:browser-pass@127.0.0.1:21');
    await row.locator('[data-testid="proxy-save"]').click();
    await page.locator('.error').filter({ hasText: /socks5h:\/\// }).waitFor();
    assert.equal((await cli('accounts', 'list')).find((a: { name: string }) => a.name === 'relay').upstreamProxy, 'default', 'a refused proxy changes nothing');
    await row.locator('input[name="upstreamProxy"]').fill('http://px:browser-pass@127.0.0.1:3128');
    await row.locator('[data-testid="proxy-save"]').click();
    await row.locator('[data-testid="proxy-value"]').filter({ hasText: 'http://px:***@127.0.0.1:3128' }).waitFor();
    await screenshot(page, 'accounts-proxy');
    assert.doesNotMatch(await page.content(), /browser-pass/);
    assert.equal((await cli('accounts', 'list')).find((a: { name: string }) => a.name === 'relay').upstreamProxy, 'http://px:***@127.0.0.1:3128');
    await row.locator('[data-testid="proxy-change"]').click();
    assert.equal(await row.locator('input[name="upstreamProxy"]').inputValue(), '', 'the masked URL is never offered back as a value');
    await row.locator('input[name="upstreamProxy"]').fill('direct');
    await row.locator('[data-testid="proxy-save"]').click();
    await row.locator('[data-testid="proxy-value"]').filter({ hasText: /direct/ }).waitFor();
  });

  it('removes an account after asking', async () => {
    const page = await openPopover(browser, running, 'accounts');
    await page.locator('li.account[data-name="relay2"] [data-testid="remove"]').click();
    assert.match(await page.locator('li.account[data-name="relay2"] .confirm').innerText(), /Remove relay2\?/);
    await page.locator('li.account[data-name="relay2"] [data-testid="confirm"]').click();
    await page.locator('li.account[data-name="relay2"]').waitFor({ state: 'detached' });
    const listed = await cli('accounts', 'list');
    assert.equal(listed.some((a: { name: string }) => a.name === 'relay2'), false);
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startMockUpstream } from '../mock-upstream.js';
import { addProvider, ensureBuilt, postResponses, runCli, startGateway, tempHome, turn } from '../_helpers.js';
import { launchChromium, openPopover, pageProblems, screenshot } from './_chromium.js';

await ensureBuilt();
const home = await tempHome();
const first = await startMockUpstream({ tag: 'first' });
const second = await startMockUpstream({ tag: 'second' });
after(() => Promise.all([first.close(), second.close()]));
const running = await startGateway(home);
await addProvider(running, 'first', first.url);
await addProvider(running, 'second', second.url);
// Three answers from `first`, then it runs out and the fourth request fails over to `second`.
for (let i = 0; i < 3; i++) assert.equal((await postResponses(running.base, turn(`hello ${i}`))).status, 200);
first.plans.push({ kind: 'usage-limit', resetsAt: Math.floor(Date.now() / 1000) + 7200 });
assert.equal((await postResponses(running.base, turn('one more'))).status, 200);
assert.equal((await postResponses(running.base, turn('and another', { model: 'gpt-5.1-codex-mini' }))).status, 200);
const browser = await launchChromium();

/** What `aigate stats` reports, once the gateway has written what it buffered. */
async function cliStats(by: string) {
  await running.stats!.flush();
  const r = await runCli(['stats', '--since', '24h', '--by', by, '--json'], home.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('Stats popover', () => {
  it('shows the totals, charts, the breakdown and recent requests the gateway recorded', async () => {
    const page = await openPopover(browser, running, 'stats');
    const cli = await cliStats('account');
    await page.locator('[data-testid="tile-requests"]').waitFor();
    assert.equal(await page.locator('[data-testid="tile-requests"] .tile-value').innerText(), String(cli.total.requests));
    assert.equal(await page.locator('[data-testid="tile-failovers"] .tile-value').innerText(), String(cli.total.failovers));
    assert.equal(cli.total.requests, 5);
    assert.equal(cli.total.failovers, 1);
    // Three uPlot charts, one line per account.
    await page.locator('.chart canvas').nth(2).waitFor();
    assert.equal(await page.locator('.chart').count(), 3);
    assert.deepEqual(await page.locator('.chart').first().locator('.u-legend .u-series th').evaluateAll((els) => els.map((e) => e.textContent?.trim()).filter(Boolean)), ['first', 'second']);
    const breakdown = page.locator('[data-testid="breakdown"] tbody tr');
    const rows = await breakdown.evaluateAll((els) => els.map((e) => [...e.querySelectorAll('td')].map((td) => td.textContent)));
    for (const row of cli.rows) {
      const shown = rows.find((r) => r[0] === row.key);
      assert.ok(shown, `no breakdown row for ${row.key}`);
      assert.equal(shown[1], String(row.requests));
    }
    const recent = page.locator('[data-testid="recent"] tbody tr');
    assert.equal(await recent.count(), 5);
    assert.match(await recent.first().innerText(), /second\s+gpt-5\.1-codex-mini\s+200/);
    assert.match(await recent.nth(1).innerText(), /second ↻1/);
    assert.deepEqual(pageProblems(page), []);
    await screenshot(page, 'stats-light');
    await screenshot(await openPopover(browser, running, 'stats', { colorScheme: 'dark', lang: 'zh-CN' }), 'stats-dark-zh-CN');
  });

  it('splits by model', async () => {
    const page = await openPopover(browser, running, 'stats');
    await page.locator('.segmented[data-name="split"] [data-value="model"]').click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="breakdown"] td.key')].some((td) => td.textContent === 'gpt-5.1-codex-mini'));
    const keys = await page.locator('[data-testid="breakdown"] td.key').allInnerTexts();
    assert.deepEqual(keys.sort(), ['gpt-5.1-codex', 'gpt-5.1-codex-mini']);
  });
});

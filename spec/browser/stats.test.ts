import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startMockUpstream } from '../mock-upstream.js';
import { answerWithUsage } from '../_usage.js';
import { addOfficial, addProvider, ensureBuilt, postResponses, runCli, startGateway, tempHome, TestClock, turn } from '../_helpers.js';
import { launchChromium, openPopover, pageProblems, screenshot } from './_chromium.js';

await ensureBuilt();
const home = await tempHome();
// A fixed morning: the page and the gateway agree on the time, whatever the hour the suite runs at.
const clock = new TestClock(new Date(2026, 2, 3, 9, 30).getTime());
const chatgpt = await startMockUpstream({ tag: 'work' });
const provider = await startMockUpstream({ tag: 'key' });
after(() => Promise.all([chatgpt.close(), provider.close()]));
const env = { ...home.env, AIGATE_CHATGPT_BASE_URL: chatgpt.url, AIGATE_SCHEDULER_INTERVAL: 'off' };
const running = await startGateway({ ...home, env }, { env, clock });
await addOfficial(running, 'work', { accountId: 'acct-stats' });
await addProvider(running, 'key', provider.url);
// Three answers from `work` on gpt-6.2-sol, each 500k uncached + 1.5M cached input and 400k output: $1.00 + $0.15 + $4.00.
for (let i = 0; i < 3; i++) {
  chatgpt.plans.push(answerWithUsage(2_000_000, 1_500_000, 400_000, 100_000));
  assert.equal((await postResponses(running.base, turn(`hello ${i}`, { model: 'gpt-6.2-sol' }))).status, 200);
  clock.advance(60_000);
}
// Then work runs out and the fourth request fails over to `key`; the fifth asks for a model with no price.
chatgpt.plans.push({ kind: 'usage-limit', resetsAt: Math.floor(clock.now() / 1000) + 7200 });
assert.equal((await postResponses(running.base, turn('one more', { model: 'gpt-6.2-sol' }))).status, 200);
clock.advance(60_000);
assert.equal((await postResponses(running.base, turn('and another', { model: 'gpt-5.1-codex-mini' }))).status, 200);
const browser = await launchChromium();

/** What `aigate stats` reports (it has the gateway write out what it holds first). */
async function cliStats(by: string) {
  const r = await runCli(['stats', '--since', '2026-03-02', '--by', by, '--json'], { ...home.env, AIGATE_LISTEN: new URL(running.gateway.url).host });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('Stats popover', () => {
  it('shows the totals, cost, charts, the breakdown and recent requests the gateway recorded', async () => {
    const cli = await cliStats('account');
    const page = await openPopover(browser, running, 'stats', { now: clock.now() });
    await page.locator('[data-testid="tile-requests"]').waitFor();
    assert.equal(await page.locator('[data-testid="tile-requests"] .tile-value').innerText(), String(cli.total.requests));
    assert.equal(await page.locator('[data-testid="tile-failovers"] .tile-value').innerText(), String(cli.total.failovers));
    assert.equal(cli.total.requests, 5);
    assert.equal(cli.total.failovers, 1);
    // 3 × $5.15 on work, plus the failed-over request at gpt-6.2-sol's price on key (the mock's small usage).
    assert.equal(cli.total.costUsd.toFixed(6), '15.450502');
    assert.equal(await page.locator('[data-testid="tile-cost"] .tile-value').innerText(), '$15.45');
    assert.equal(await page.locator('[data-testid="tile-cost"] .tile-label').innerText(), 'Cost');
    assert.match(await page.locator('[data-testid="cost-api"]').innerText(), /ChatGPT accounts: \$15\.45 is what their usage would cost on the OpenAI API/);
    assert.match(await page.locator('[data-testid="cost-unpriced"]').innerText(), /1 request\(s\) have no price \(gpt-5\.1-codex-mini\)/);
    // Four uPlot charts, one line per account; the cost chart among them.
    await page.locator('.chart canvas').nth(3).waitFor();
    assert.deepEqual(await page.locator('.chart figcaption').allInnerTexts(), ['Requests', 'Tokens', 'Cost', 'Failovers']);
    assert.deepEqual(await page.locator('.chart').first().locator('.u-legend .u-series th').evaluateAll((els) => els.map((e) => e.textContent?.trim()).filter(Boolean)), ['work', 'key']);
    const breakdown = page.locator('[data-testid="breakdown"] tbody tr');
    const rows = await breakdown.evaluateAll((els) => els.map((e) => [...e.querySelectorAll('td')].map((td) => td.textContent)));
    for (const row of cli.rows) {
      const shown = rows.find((r) => r[0] === row.key);
      assert.ok(shown, `no breakdown row for ${row.key}`);
      assert.equal(shown[1], String(row.requests));
    }
    assert.equal(rows.find((r) => r[0] === 'work')![4], '$15.45');
    assert.equal(rows.find((r) => r[0] === 'key')![4], '$0.0005*', 'priced in part: one of its requests has no price');
    assert.equal(await page.locator('[data-testid="breakdown"] tr:has(td.key:text-is("work")) td.cost').getAttribute('title'), '$15.45 · API equivalent');
    const recent = page.locator('[data-testid="recent"] tbody tr');
    assert.equal(await recent.count(), 5);
    assert.match(await recent.first().innerText(), /key\s+gpt-5\.1-codex-mini\s+200/);
    assert.match(await recent.nth(1).innerText(), /key ↻1/);
    assert.deepEqual(pageProblems(page), []);
    await screenshot(page, 'stats-light');

    const zh = await openPopover(browser, running, 'stats', { now: clock.now(), colorScheme: 'dark', lang: 'zh-CN' });
    await zh.locator('.chart canvas').nth(3).waitFor();
    assert.equal(await zh.locator('[data-testid="tile-cost"] .tile-label').innerText(), '费用');
    assert.equal(await zh.locator('[data-testid="tile-cost"] .tile-value').innerText(), 'US$15.45');
    assert.match(await zh.locator('[data-testid="cost-api"]').innerText(), /ChatGPT 账号：US\$15\.45 是这些用量按 OpenAI API 计价的费用/);
    assert.deepEqual(pageProblems(zh), []);
    await screenshot(zh, 'stats-dark-zh-CN');
  });

  it('splits by model, with the cost of each', async () => {
    const page = await openPopover(browser, running, 'stats', { now: clock.now() });
    await page.locator('.segmented[data-name="split"] [data-value="model"]').click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="breakdown"] td.key')].some((td) => td.textContent === 'gpt-5.1-codex-mini'));
    const rows = await page.locator('[data-testid="breakdown"] tbody tr').evaluateAll((els) => els.map((e) => [...e.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(rows.map((r) => [r[0], r[4]]).sort(), [['gpt-5.1-codex-mini', '–'], ['gpt-6.2-sol', '$15.45']]);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import type { TokenUsage } from '../src/state/events.js';
import type { StoreData } from '../src/state/schema.js';
import { aggregate } from '../src/state/stats/aggregate.js';
import { checkPrice } from '../src/state/stats/price-overrides.js';
import { costUsd, PRICE_TABLE, priceBook, resolvePrice } from '../src/state/stats/prices.js';
import type { StatLine } from '../src/state/stats/records.js';
import { defaultData } from '../src/state/schema.js';
import { ensureBuilt, openState, runCli, tempHome } from './_helpers.js';

const usage = (input: number, cached: number, output: number, reasoning = 0): TokenUsage => ({
  inputTokens: input,
  cachedTokens: cached,
  outputTokens: output,
  reasoningTokens: reasoning,
  totalTokens: input + output,
});

function data(extra: Partial<StoreData> = {}, accounts: { name: string; kind: 'official' | 'third-party'; prices?: StoreData['prices'] }[] = []): StoreData {
  const base = defaultData();
  const records = accounts.map((a, i) => ({ id: `id${i}`, enabled: true, secret: 'x', health: { state: 'ok' as const }, addedAt: '', ...a }));
  return { ...base, accounts: records, ...extra };
}

describe('price arithmetic', () => {
  const sol = PRICE_TABLE.models['gpt-6.2-sol']!; // $2 input, $0.10 cached, $10 output per million

  it('prices uncached input, cached input at its own price, and output', () => {
    // 1M input of which 600k cached, 200k output: 400k × $2 + 600k × $0.10 + 200k × $10 = $0.80 + $0.06 + $2.00.
    assert.equal(costUsd(usage(1_000_000, 600_000, 200_000), sol).toFixed(6), '2.860000');
  });

  it('never counts reasoning twice: it is part of the output tokens', () => {
    assert.equal(costUsd(usage(1000, 0, 500, 400), sol), costUsd(usage(1000, 0, 500, 0), sol));
  });

  it('treats cached tokens beyond the input as all cached, not as negative input', () => {
    assert.equal(costUsd(usage(100, 250, 0), sol), (100 * 0.1) / 1e6);
  });

  it('resolves the account price over the user price over the shipped one, and snapshots to their model', () => {
    const d = data({ prices: { 'gpt-6.2-sol': { input: 1, cachedInput: 0.5, output: 3 } } }, [
      { name: 'cheap', kind: 'third-party', prices: { 'gpt-6.2-sol': { input: 0.1, cachedInput: 0.01, output: 0.2 } } },
      { name: 'work', kind: 'official' },
    ]);
    assert.deepEqual(resolvePrice(d, 'cheap', 'gpt-6.2-sol'), { price: { input: 0.1, cachedInput: 0.01, output: 0.2 }, origin: 'account' });
    assert.deepEqual(resolvePrice(d, 'work', 'GPT-6.2-Sol'), { price: { input: 1, cachedInput: 0.5, output: 3 }, origin: 'user' });
    assert.equal(resolvePrice(d, 'work', 'gpt-6.1-sol-2026-09-29')?.origin, 'shipped');
    assert.equal(resolvePrice(d, 'work', 'gpt-5.1-codex'), undefined);
    assert.equal(resolvePrice(d, 'work', undefined), undefined);
  });

  it('counts a request whose model has no price as unpriced, never as free, and labels ChatGPT usage as the API equivalent', () => {
    const d = data({}, [
      { name: 'work', kind: 'official' },
      { name: 'key', kind: 'third-party', prices: { 'gpt-5.1-codex': { input: 1, cachedInput: 0.1, output: 2 } } },
    ]);
    const line = (account: string, model: string, u?: TokenUsage): StatLine => ({ kind: 'request', at: 1000, account, model, route: 'responses', status: 200, totalMs: 1, hops: [], usage: u });
    const lines = [
      line('work', 'gpt-6.2-sol', usage(1_000_000, 0, 0)), // $2.00, API equivalent
      line('work', 'gpt-5.1-codex', usage(5_000_000, 0, 5_000_000)), // no price for work
      line('key', 'gpt-5.1-codex', usage(1_000_000, 0, 1_000_000)), // $3.00 at key's own price
      line('work', 'gpt-5.1-codex'), // no usage (a failed request): nothing to price
    ];
    const { rows, total } = aggregate(lines, 'account', { since: 0, until: 2000 }, priceBook(d));
    assert.equal(total.costUsd, 5);
    assert.equal(total.apiEquivalentUsd, 2);
    assert.equal(total.unpricedRequests, 1);
    assert.deepEqual(total.unpricedModels, ['gpt-5.1-codex']);
    const work = rows.find((r) => r.key === 'work')!;
    assert.deepEqual([work.costUsd, work.apiEquivalentUsd, work.unpricedRequests], [2, 2, 1]);
    const key = rows.find((r) => r.key === 'key')!;
    assert.deepEqual([key.costUsd, key.apiEquivalentUsd, key.unpricedRequests], [3, 0, 0]);
  });
});

describe('the shipped price table', () => {
  it('gives every price a source page and sane numbers', () => {
    assert.ok(Object.keys(PRICE_TABLE.models).length >= 10);
    for (const [model, p] of Object.entries(PRICE_TABLE.models)) {
      assert.ok(p.sources.length && p.sources.every((s) => /^https:\/\//.test(s)), `${model} has no source`);
      for (const v of [p.input, p.cachedInput, p.output]) assert.ok(Number.isFinite(v) && v >= 0, `${model}: ${v}`);
      assert.ok(p.cachedInput <= p.input && p.input <= p.output, `${model}: cached ≤ input ≤ output`);
      assert.ok(!(model in PRICE_TABLE.unpriced), `${model} is both priced and unpriced`);
    }
    assert.match(PRICE_TABLE.read, /^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('price input', () => {
  it('refuses negative, non-numeric, missing and absurd prices, naming the flag', () => {
    assert.throws(() => checkPrice({ input: '-1', cachedInput: '0', output: '1' }), /--input -1 is negative/);
    assert.throws(() => checkPrice({ input: 1, cachedInput: -0.5, output: 1 }), /--cached -0\.5 is negative/);
    assert.throws(() => checkPrice({ input: '1e3', cachedInput: '0', output: '1' }), /--input 1e3 is not a number/);
    assert.throws(() => checkPrice({ input: 'Infinity', cachedInput: '0', output: '1' }), /is not a number/);
    assert.throws(() => checkPrice({ input: '1', output: '1' }), /--cached is missing/);
    assert.throws(() => checkPrice({ input: '1', cachedInput: '0.1', output: '2000000' }), /--output 2000000 is over/);
    assert.deepEqual(checkPrice({ input: '1.25', cachedInput: '.125', output: '10' }), { input: 1.25, cachedInput: 0.125, output: 10 });
  });
});

describe('aigate prices', () => {
  before(ensureBuilt);

  it('sets, lists and resets prices, and a bad one changes nothing', async () => {
    const home = await tempHome();
    const ctx = await openState(home);
    await ctx.store.update((d) => void d.accounts.push({ id: 'p1', name: 'proxy', kind: 'third-party', enabled: true, secret: 'x', health: { state: 'ok' }, addedAt: '' }));
    const cli = (...args: string[]) => runCli(['prices', ...args], home.env);

    const set = await cli('set', 'gpt-5.1-codex', '--input', '1.25', '--cached', '0.125', '--output', '10');
    assert.equal(set.code, 0, set.stderr);
    const own = await cli('set', 'gpt-6.2-sol', '--input', '0.5', '--cached', '0', '--output', '1', '--account', 'proxy');
    assert.equal(own.code, 0, own.stderr);
    const listed = JSON.parse((await cli('--json')).stdout).prices as { model: string; origin: string; account?: string; input: number }[];
    assert.deepEqual(listed.find((r) => r.model === 'gpt-5.1-codex'), { model: 'gpt-5.1-codex', input: 1.25, cachedInput: 0.125, output: 10, origin: 'user' });
    assert.deepEqual(listed.filter((r) => r.model === 'gpt-6.2-sol').map((r) => [r.origin, r.account, r.input]), [['account', 'proxy', 0.5], ['shipped', undefined, 2]]);
    assert.match((await cli()).stdout, /gpt-6\.2-sol\s+\$0\.50\s+\$0\.00\s+\$1\.00\s+yours, proxy only/);

    const before = await fs.readFile(ctx.store.file, 'utf8');
    for (const [args, message] of [
      [['set', 'gpt-6.2-sol', '--input=-2', '--cached', '0', '--output', '1'], /--input -2 is negative/],
      [['set', 'gpt-6.2-sol', '--input', 'cheap', '--cached', '0', '--output', '1'], /--input cheap is not a number/],
      [['set', 'gpt-6.2-sol', '--input', '1', '--output', '1'], /--cached is missing/],
      [['set', 'gpt-6.2-sol', '--input', '1', '--cached', '0', '--output', '1', '--account', 'nobody'], /no account named "nobody"/],
      [['set', 'bad model', '--input', '1', '--cached', '0', '--output', '1'], /"bad model" is not a model id/],
      [['reset', 'gpt-6.2-sol'], /no price of your own for gpt-6\.2-sol .*shipped price applies/],
    ] as const) {
      const r = await cli(...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, message);
    }
    assert.equal(await fs.readFile(ctx.store.file, 'utf8'), before, 'refused input left the store as it was');

    assert.equal((await cli('reset', 'gpt-6.2-sol', '--account', 'proxy')).code, 0);
    assert.equal((await cli('reset', 'gpt-5.1-codex')).code, 0);
    const after = JSON.parse(await fs.readFile(ctx.store.file, 'utf8'));
    assert.equal(after.prices, undefined);
    assert.equal(after.accounts[0].prices, undefined);
  });
});

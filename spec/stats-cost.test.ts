/** What requests cost, through the real gateway and `aigate stats`, with usage large enough to check to the cent. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { addOfficial, addProvider, ensureBuilt, postResponses, runCli, startGateway, tempHome, turn } from './_helpers.js';
import { startMockUpstream, type Plan } from './mock-upstream.js';
import { answerWithUsage } from './_usage.js';

describe('cost per request', () => {
  before(ensureBuilt);

  it('is in `aigate stats` to the cent right after the requests, API-equivalent for ChatGPT, unpriced where no price is known', async () => {
    const home = await tempHome();
    const chatgpt = await startMockUpstream({ tag: 'W' });
    const provider = await startMockUpstream({ tag: 'K' });
    after(() => Promise.all([chatgpt.close(), provider.close()]));
    const env = { ...home.env, AIGATE_CHATGPT_BASE_URL: chatgpt.url, AIGATE_SCHEDULER_INTERVAL: 'off' };
    // Records wait a minute in memory: only the gateway's own flush can put them in the files `aigate stats` reads.
    const gw = await startGateway({ ...home, env }, { env, statsFlushMs: 60_000 });
    await addOfficial(gw, 'work', { accountId: 'acct-cost' });
    await addProvider(gw, 'key', `${provider.url}/v1`);
    const cli = (args: string[], listen = new URL(gw.gateway.url).host) => runCli(['stats', '--since', '1h', ...args], { ...home.env, AIGATE_LISTEN: listen });
    const price = await runCli(['prices', 'set', 'gpt-6.2-sol', '--input', '0.5', '--cached', '0.05', '--output', '1.5', '--account', 'key'], home.env);
    assert.equal(price.code, 0, price.stderr);
    await gw.store.idle();
    const ask = async (account: string, model: string, plan?: Plan) => {
      const mock = account === 'work' ? chatgpt : provider;
      if (plan) mock.plans.push(plan);
      const recorded = once(gw.bus, 'request');
      const res = await postResponses(`${gw.base}/accounts/${account}`, turn('price me', { model }));
      assert.equal(res.status, 200, res.text);
      await recorded;
    };

    // work, gpt-6.2-astra at $8 / $0.40 / $40: 1M uncached × 8 + 2M cached × 0.40 + 250k output (reasoning inside) × 40 = $18.80.
    await ask('work', 'gpt-6.2-astra', answerWithUsage(3_000_000, 2_000_000, 250_000, 200_000));
    // key, its own gpt-6.2-sol price $0.50 / $0.05 / $1.50: 3M × 0.5 + 1M × 0.05 + 1M × 1.5 = $3.05.
    await ask('key', 'gpt-6.2-sol', answerWithUsage(4_000_000, 1_000_000, 1_000_000, 999_999));
    // gpt-5.1-codex has no price anywhere: counted, not costed.
    await ask('key', 'gpt-5.1-codex');

    const json = await cli(['--json']);
    assert.equal(json.code, 0, json.stderr);
    const stats = JSON.parse(json.stdout);
    const row = (key: string) => stats.rows.find((r: { key: string }) => r.key === key);
    assert.equal(stats.total.requests, 3, 'every request, though none had reached the files');
    assert.equal(row('work').costUsd.toFixed(2), '18.80');
    assert.equal(row('work').apiEquivalentUsd.toFixed(2), '18.80');
    assert.equal(row('key').costUsd.toFixed(2), '3.05');
    assert.equal(row('key').apiEquivalentUsd, 0);
    assert.equal(row('key').unpricedRequests, 1);
    assert.equal(stats.total.costUsd.toFixed(2), '21.85');
    assert.deepEqual([stats.total.unpricedRequests, stats.total.unpricedModels], [1, ['gpt-5.1-codex']]);

    const table = await cli([]);
    assert.match(table.stdout, /\nwork\s.*\$18\.80 \(API\)/);
    assert.match(table.stdout, /\nkey\s.*\$3\.05 \+1 unpriced/);
    assert.match(table.stdout, /\ntotal\s.*\$21\.85 \+1 unpriced/);
    assert.match(table.stdout, /\$18\.80 of the cost is ChatGPT accounts' usage \(API\): what it would cost on the OpenAI API/);
    assert.match(table.stdout, /1 request\(s\) have no price \(gpt-5\.1-codex\)/);

    // Without a gateway to ask, the files are read as they are: the newest request is not in them yet.
    await ask('key', 'gpt-6.2-sol', answerWithUsage(1_000_000, 0, 0, 0));
    const offline = JSON.parse((await cli(['--json'], '127.0.0.1:1')).stdout);
    assert.equal(offline.total.requests, 3);
    const online = JSON.parse((await cli(['--json'])).stdout);
    assert.equal(online.total.requests, 4);
    assert.equal(online.total.costUsd.toFixed(2), '22.35');

    // Prices apply when statistics are read: a price set now prices the past request that had none.
    assert.equal((await runCli(['prices', 'set', 'gpt-5.1-codex', '--input', '1', '--cached', '0.1', '--output', '2'], home.env)).code, 0);
    const repriced = JSON.parse((await cli(['--json'])).stdout);
    assert.equal(repriced.total.unpricedRequests, 0);
    // The mock's usual usage: 100 uncached + 20 cached input, 30 output → (100 × 1 + 20 × 0.1 + 30 × 2) / 1M.
    assert.equal(repriced.total.costUsd.toFixed(6), '22.350162');
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setEnabled, useAccount } from '../src/state/accounts.js';
import { parseSse, postResponses, turn } from './_helpers.js';
import { sseEvent, usage } from './mock-model.js';
import type { MockUpstream } from './mock-upstream.js';
import { inSeconds, failoverRig as setup } from './_rig.js';

describe('failover before the first byte', () => {
  it('moves to the next account when the first answers 429 usage_limit_reached, and cools it until resets_at', async () => {
    const t = await setup(['A', 'B']);
    const resetsAt = inSeconds(t.clock, 7200);
    t.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt });
    const res = await t.ask('hi');
    assert.equal(res.status, 200);
    assert.equal(t.answeredBy(res), 'B');
    assert.equal(t.account('A').health.state, 'cooling');
    assert.equal(t.account('A').health.until, resetsAt * 1000);
    assert.deepEqual(t.events.map((e) => [e.from, e.to, e.reason, e.resetsAt]), [['A', 'B', 'usage-limit', resetsAt * 1000]]);
    // While A cools down, new requests do not touch it at all.
    const before = t.mocks.A!.served;
    assert.equal(t.answeredBy(await t.ask('again')), 'B');
    assert.equal(t.mocks.A!.served, before);
  });

  const triggers: [string, (m: MockUpstream) => void, string][] = [
    ['a 503', (m) => m.plans.push({ kind: 'status', status: 503 }), 'server-error'],
    ['a 500', (m) => m.plans.push({ kind: 'status', status: 500 }), 'server-error'],
    ['a 429 rate limit with Retry-After', (m) => m.plans.push({ kind: 'status', status: 429, body: { error: { type: 'rate_limit_exceeded', message: 'slow down' } }, headers: { 'retry-after': '20' } }), 'rate-limit'],
    ['a 401 from a third-party provider', (m) => m.plans.push({ kind: 'status', status: 401, body: { error: { message: 'bad key' } } }), 'auth'],
    ['a 403', (m) => m.plans.push({ kind: 'status', status: 403 }), 'auth'],
    ['a connection reset', (m) => m.plans.push({ kind: 'reset' }), 'connection'],
    ['a first event of response.failed with rate_limit_exceeded', (m) => m.plans.push({ kind: 'failed-first', code: 'rate_limit_exceeded' }), 'response-failed'],
    ['a first event of response.failed with server_error', (m) => m.plans.push({ kind: 'failed-first', code: 'server_error' }), 'response-failed'],
  ];
  for (const [what, script, reason] of triggers) {
    it(`moves on after ${what}`, async () => {
      const t = await setup(['A', 'B']);
      script(t.mocks.A!);
      const res = await t.ask('hi');
      assert.equal(res.status, 200);
      assert.equal(t.answeredBy(res), 'B');
      assert.equal(t.events[0]?.reason, reason);
      assert.notEqual(t.account('A').health.state, 'ok');
    });
  }

  it('moves on when the account does not answer at all', async () => {
    const t = await setup(['A', 'B']);
    await t.mocks.A!.close();
    const res = await t.ask('hi');
    assert.equal(t.answeredBy(res), 'B');
    assert.equal(t.events[0]?.reason, 'connection');
    assert.equal(t.account('A').health.state, 'degraded');
  });

  it('moves on when no response headers arrive in time', async () => {
    const t = await setup(['A', 'B'], { headersTimeoutMs: 300 });
    t.mocks.A!.plans.push({ kind: 'hang' });
    const res = await t.ask('hi');
    assert.equal(t.answeredBy(res), 'B');
    assert.equal(t.events[0]?.reason, 'timeout');
  });

  for (const status of [400, 404, 413, 422]) {
    it(`returns a ${status} as-is: it is the request's fault, not the account's`, async () => {
      const t = await setup(['A', 'B']);
      t.mocks.A!.plans.push({ kind: 'status', status, body: { error: { message: `bad request ${status}`, type: 'invalid_request_error' } } });
      const res = await t.ask('hi');
      assert.equal(res.status, status);
      assert.equal(JSON.parse(res.text).error.message, `bad request ${status}`);
      assert.equal(t.mocks.B!.served, 0);
      assert.equal(t.account('A').health.state, 'ok');
    });
  }
});

describe('choosing an account', () => {
  it('keeps a conversation on its account while it is healthy, even when the preferred one is another', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    assert.equal(t.answeredBy(await t.ask('turn 1', 'conv')), 'B');
    t.clock.advance(10 * 60_000); // A's backoff is over
    assert.equal(t.answeredBy(await t.ask('turn 2', 'conv')), 'B');
    assert.equal(t.answeredBy(await t.ask('new conversation', 'other')), 'A');
  });

  it('uses prompt_cache_key when Codex sends no session header', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    const send = () => postResponses(t.gw.base, turn('x', { prompt_cache_key: 'thread-9' })).then((r) => ({ events: parseSse(r.text) }));
    assert.equal(t.answeredBy(await send()), 'B');
    t.clock.advance(10 * 60_000);
    assert.equal(t.answeredBy(await send()), 'B');
  });

  it('sends new conversations back to the preferred account once its reset time passes', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 3600) });
    assert.equal(t.answeredBy(await t.ask('1')), 'B');
    t.clock.advance(3599_000);
    assert.equal(t.answeredBy(await t.ask('2')), 'B');
    t.clock.advance(2_000);
    const states: string[] = [];
    t.gw.bus.on('account-state', (e) => states.push(`${e.account}:${e.from}->${e.to}`));
    t.gw.health.sweep();
    assert.deepEqual(states, ['A:cooling->ok']);
    assert.equal(t.answeredBy(await t.ask('3')), 'A');
  });

  it('answers 429 usage_limit_reached with the earliest reset when every account is out', async () => {
    const t = await setup(['A', 'B', 'C']);
    const resets = { A: inSeconds(t.clock, 9000), B: inSeconds(t.clock, 4000), C: inSeconds(t.clock, 6000) };
    for (const [name, resetsAt] of Object.entries(resets)) t.mocks[name]!.plans.push({ kind: 'usage-limit', resetsAt });
    const exhausted: number[] = [];
    t.gw.bus.on('exhausted', (e) => exhausted.push(e.resetsAt!));
    const res = await t.ask('hi');
    assert.equal(res.status, 429);
    const error = JSON.parse(res.text).error;
    assert.equal(error.type, 'usage_limit_reached');
    assert.equal(error.resets_at, resets.B);
    assert.deepEqual(exhausted, [resets.B * 1000]);
    // The next request does not touch any upstream: it is answered at once.
    const served = t.mocks.A!.served + t.mocks.B!.served + t.mocks.C!.served;
    const again = await t.ask('again');
    assert.equal(again.status, 429);
    assert.equal(t.mocks.A!.served + t.mocks.B!.served + t.mocks.C!.served, served);
  });

  it('tells Codex to retry after a short wait when every account is only briefly rate limited', async () => {
    const t = await setup(['A']);
    t.mocks.A!.plans.push({ kind: 'status', status: 429, body: { error: { type: 'rate_limit_exceeded' } }, headers: { 'retry-after': '7' } });
    const res = await t.ask('hi');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
  });

  it('relays the last server error when every account failed transiently, so Codex retries', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'status', status: 502 });
    t.mocks.B!.plans.push({ kind: 'status', status: 503, body: { error: { message: 'B overloaded', type: 'server_error' } } });
    const res = await t.ask('hi');
    assert.equal(res.status, 503);
    assert.equal(JSON.parse(res.text).error.message, 'B overloaded');
  });

  it('tries degraded accounts, soonest-recovering first, before giving up', async () => {
    const t = await setup(['A', 'B', 'C']);
    t.mocks.C!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 99_999) });
    t.mocks.A!.plans.push({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    t.mocks.B!.plans.push({ kind: 'status', status: 500 });
    assert.equal((await t.ask('1')).status, 500); // A, B fail (30 s backoff each), C is out of quota
    t.clock.advance(31_000);
    assert.equal(t.answeredBy(await t.ask('2')), 'B'); // A fails again: backoff 60 s; B recovers
    t.mocks.B!.plans.push({ kind: 'status', status: 500 });
    // B fails (30 s): every account is now degraded or cooling, and the degraded ones are still tried.
    assert.equal(t.answeredBy(await t.ask('3')), 'A');
    assert.equal(t.account('A').health.state, 'ok'); // a success on a degraded account restores it
    t.clock.advance(1000);
    t.mocks.A!.plans.push({ kind: 'status', status: 500 });
    t.mocks.B!.plans.push({ kind: 'status', status: 500 });
    assert.equal((await t.ask('4')).status, 500); // A (healthy, 30 s) then B (degraded again, 60 s) fail
    const [first, second] = ['A', 'B'].sort((x, y) => t.account(x).health.until! - t.account(y).health.until!) as [string, string];
    assert.notEqual(t.account(first).health.until, t.account(second).health.until);
    const servedSecond = t.mocks[second]!.served;
    assert.equal(t.answeredBy(await t.ask('5')), first);
    assert.equal(t.mocks[second]!.served, servedSecond);
  });

  it('routes a pinned project only to its account, with no failover', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.B!.plans.push({ kind: 'status', status: 503, body: { error: { message: 'B down', type: 'server_error' } } });
    const res = await postResponses(`${t.gw.base}/accounts/B`, turn('pinned'));
    assert.equal(res.status, 503);
    assert.equal(t.mocks.A!.served, 0);
    const ok = await postResponses(`${t.gw.base}/accounts/A`, turn('pinned'));
    assert.equal(t.answeredBy({ events: parseSse(ok.text) }), 'A');
  });

  it('never tries a disabled account and honours the preferred one', async () => {
    const t = await setup(['A', 'B', 'C']);
    await useAccount(t.gw.store, 'C');
    assert.equal(t.answeredBy(await t.ask('1')), 'C');
    await setEnabled(t.gw.store, 'C', false);
    await useAccount(t.gw.store, 'B');
    await setEnabled(t.gw.store, 'B', false);
    assert.equal(t.answeredBy(await t.ask('2')), 'A');
    assert.equal(t.mocks.B!.served, 0);
  });

  it('steers new conversations away from an account over the quota threshold', async () => {
    const t = await setup(['A', 'B']);
    await t.gw.store.update((d) => void (d.settings.quotaThreshold = 95));
    t.mocks.A!.options.rateLimits = { primaryUsed: 97, secondaryUsed: 40 };
    assert.equal(t.answeredBy(await t.ask('1', 'kept')), 'A'); // learns A's quota from its headers
    assert.equal(t.account('A').quota?.primary?.usedPercent, 97);
    assert.equal(t.answeredBy(await t.ask('2', 'new')), 'B');
    assert.equal(t.answeredBy(await t.ask('3', 'kept')), 'A'); // an existing conversation stays
  });

  it('does not fail over at all when failover is off', async () => {
    const t = await setup(['A', 'B']);
    await t.gw.store.update((d) => void (d.settings.failover = false));
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    assert.equal((await t.ask('hi')).status, 503);
    assert.equal(t.mocks.B!.served, 0);
  });
});

describe('after the first byte', () => {
  it('keeps an account ok after an answer longer than the tap keeps (response.completed echoes the output)', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'ok', text: 'z'.repeat(200_000) });
    const records: import('../src/state/events.js').RequestRecord[] = [];
    t.gw.bus.on('request', (r) => records.push(r));
    const res = await t.ask('long');
    assert.equal(res.events.at(-1).type, 'response.completed');
    assert.equal(t.account('A').health.state, 'ok');
    assert.deepEqual(t.events, []);
    assert.equal(records[0]?.usage?.totalTokens, 150);
  });

  it('ends a cut stream without response.completed and sends the re-sent turn elsewhere', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'cut', afterEvents: 3 });
    const cut = await t.ask('turn', 'conv');
    assert.equal(cut.status, 200);
    assert.ok(!cut.text.includes('response.completed'));
    assert.equal(t.account('A').health.state, 'degraded');
    const retry = await t.ask('turn', 'conv');
    assert.equal(t.answeredBy(retry), 'B');
  });

  it('ends a stream whose late response.failed says server_is_overloaded the way Codex re-sends, and marks the account', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'failed-last', code: 'server_is_overloaded' });
    const res = await t.ask('hi', 'conv');
    assert.ok(res.events.length > 0, 'the output before the failure reached the client');
    assert.ok(!res.events.some((e) => /^response\.(completed|failed|incomplete)$/.test(e.type)));
    assert.equal(t.account('A').health.state, 'degraded');
    assert.equal(t.answeredBy(await t.ask('re-sent', 'conv')), 'B');
    assert.deepEqual(t.events.map((e) => [e.from, e.reason]), [['A', 'response-failed']]);
  });

  it('relays a late response.failed the account is not to blame for, as it came', async () => {
    const t = await setup(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'failed-last', code: 'context_length_exceeded' });
    const res = await t.ask('hi');
    assert.equal(res.events.at(-1).type, 'response.failed');
    assert.equal(t.account('A').health.state, 'ok');
  });

  it('passes a delta that merely mentions response.failed through unchanged, split at any byte', async () => {
    const t = await setup(['A']);
    const stream = [sseEvent('response.created', { response: { id: 'r1' } }), sseEvent('response.output_text.delta', { delta: 'a response.failed event ends a stream' }), sseEvent('response.completed', { response: { id: 'r1', usage } })].join('');
    for (const at of [stream.indexOf('response.failed') + 4, stream.indexOf('response.failed') + 15, stream.length - 3]) {
      t.mocks.A!.plans.push({ kind: 'raw', headers: { 'content-type': 'text/event-stream' }, chunks: [stream.slice(0, at), stream.slice(at)] });
      const res = await postResponses(t.gw.base, turn('x'));
      assert.equal(res.text, stream);
    }
    assert.equal(t.account('A').health.state, 'ok');
  });

  it('ends a stream whose late response.failed says usage_limit_reached the way Codex re-sends, and cools the account', async () => {
    const t = await setup(['A', 'B']);
    const resetsAt = inSeconds(t.clock, 5000);
    t.mocks.A!.plans.push({ kind: 'failed-last', code: 'usage_limit_reached', resetsAt });
    const res = await t.ask('hi');
    // The output that came before it reached the client; the failure itself did not, so no terminal event.
    assert.ok(res.events.some((e) => e.type === 'response.created'));
    assert.ok(!res.events.some((e) => /^response\.(completed|failed|incomplete)$/.test(e.type)), JSON.stringify(res.events.map((e) => e.type)));
    assert.equal(t.account('A').health.state, 'cooling');
    assert.equal(t.account('A').health.until, resetsAt * 1000);
    assert.equal(t.answeredBy(await t.ask('again')), 'B');
  });
});

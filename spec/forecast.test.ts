import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { accountForecast, burnRate, type ForecastAccount } from '../src/state/forecast.js';
import { poolForecast } from '../src/state/pool-forecast.js';
import { withSample } from '../src/state/quota-history.js';
import type { QuotaSample } from '../src/state/schema.js';
import { addProvider, adminRequest, ensureBuilt, postResponses, runCli, startGateway, tempHome, TestClock, turn } from './_helpers.js';
import { startMockUpstream } from './mock-upstream.js';

const T0 = Date.UTC(2026, 2, 3, 9, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

/** Readings of the 5-hour window's used percent, `[minutes after T0, percent]`, as the gateway would record them. */
function burn(readings: [number, number][], which: 'primary' | 'secondary' = 'primary'): QuotaSample[] {
  return readings.reduce<QuotaSample[]>((history, [m, p]) => withSample(history, { [which]: { usedPercent: p }, updatedAt: T0 + m * MIN }), []);
}

function account(name: string, quota: ForecastAccount['quota'], samples: QuotaSample[] = [], extra: Partial<ForecastAccount> = {}): ForecastAccount {
  return { name, enabled: true, health: { state: 'ok' }, quota, quotaSamples: samples, ...extra };
}

describe('quota history', () => {
  it('keeps one sample per five minutes, for eight hours at most, and ignores a reading older than the newest', () => {
    let history: QuotaSample[] = [];
    for (let m = 0; m <= 12 * 60; m++) history = withSample(history, { primary: { usedPercent: m / 10 }, updatedAt: T0 + m * MIN });
    assert.ok(history.length <= 98, `${history.length} samples`);
    assert.ok(history[0]!.at >= T0 + 4 * HOUR, 'nothing older than eight hours');
    assert.ok(history[0]!.at <= T0 + 4 * HOUR + 5 * MIN, `eight hours kept: the oldest is ${(history[0]!.at - T0) / MIN} min after T0`);
    assert.deepEqual(history.at(-1), { at: T0 + 12 * HOUR, primary: 72 });
    for (let i = 1; i < history.length - 1; i++) assert.ok(history[i]!.at - history[i - 1]!.at >= 5 * MIN, `samples ${i - 1} and ${i} are ${(history[i]!.at - history[i - 1]!.at) / MIN} min apart`);
    assert.deepEqual(withSample(history, { primary: { usedPercent: 1 }, updatedAt: T0 }), history);
  });
});

describe('account forecast', () => {
  // 20 % per hour: 20 % at 09:00, 25 % at 09:15, 30 % at 09:30.
  const samples = burn([[0, 20], [15, 25], [30, 30]]);
  const now = T0 + 30 * MIN;

  it('runs out when the window fills at the recent pace, before it resets', () => {
    assert.equal(burnRate(samples, 'primary', now) * HOUR, 20);
    const f = accountForecast(account('a', { primary: { usedPercent: 30, resetsAt: T0 + 5 * HOUR }, updatedAt: now }, samples), now);
    // 70 % left at 20 %/h: 3.5 h after 09:30.
    assert.deepEqual(f, { state: 'runs-out', runsOutAt: T0 + 4 * HOUR, window: 'primary', backAt: T0 + 5 * HOUR, perHour: { primary: 20 } });
  });

  it('lasts when the window resets first, and has no pace after half an hour without requests', () => {
    assert.equal(accountForecast(account('a', { primary: { usedPercent: 30, resetsAt: T0 + 3 * HOUR }, updatedAt: now }, samples), now).state, 'lasts');
    assert.equal(accountForecast(account('a', { primary: { usedPercent: 30, resetsAt: T0 + 5 * HOUR }, updatedAt: now }, samples), now + 31 * MIN).state, 'idle');
    assert.equal(accountForecast(account('a', undefined), now).state, 'unknown');
  });

  it('measures the pace only since the last window reset', () => {
    const reset = burn([[0, 80], [20, 95], [40, 2], [55, 4], [70, 6]]);
    assert.equal((burnRate(reset, 'primary', T0 + 70 * MIN) * HOUR).toFixed(6), '8.000000');
  });

  it('takes the weekly window when it fills first', () => {
    // 1 % an hour over six hours; 40 % left is 40 h, and the week resets in three days.
    const weekly = burn([[0, 54], [180, 57], [360, 60]], 'secondary');
    const at = T0 + 6 * HOUR;
    const f = accountForecast(account('a', { primary: { usedPercent: 5, resetsAt: at + HOUR }, secondary: { usedPercent: 60, resetsAt: at + 72 * HOUR }, updatedAt: at }, weekly), at);
    assert.equal(f.window, 'secondary');
    assert.equal(f.runsOutAt, at + 40 * HOUR);
  });
});

describe('pool forecast', () => {
  const now = T0 + 30 * MIN;
  // A burns 40 %/h now (samples); B is idle.
  const fast = burn([[0, 40], [30, 60]]);

  it('hands the pace from one account to the next and ends when none is left', () => {
    const a = account('a', { primary: { usedPercent: 60 }, updatedAt: now }, fast);
    const b = account('b', { primary: { usedPercent: 80 }, updatedAt: now });
    // A: 40 % left, 1 h; then B: 20 % left, 0.5 h.
    assert.deepEqual(poolForecast([a, b], now), { state: 'runs-out', lastsUntil: now + 1.5 * HOUR, backAt: undefined });
  });

  it('counts a window that resets on the way, and says when the first account is back', () => {
    const a = account('a', { primary: { usedPercent: 60 }, updatedAt: now }, fast);
    const b = account('b', { primary: { usedPercent: 80, resetsAt: now + HOUR, windowMinutes: 300 }, updatedAt: now });
    // A runs out at +1 h, just as B resets: B's full window lasts 2.5 h more; B is back at its next reset.
    assert.deepEqual(poolForecast([a, b], now), { state: 'runs-out', lastsUntil: now + 3.5 * HOUR, backAt: now + 6 * HOUR });
  });

  it('keeps up when the windows reset faster than the pace fills them', () => {
    const slow = burn([[0, 20], [30, 25]]); // 10 %/h against 5-hour windows
    const a = account('a', { primary: { usedPercent: 25, resetsAt: now + 2 * HOUR, windowMinutes: 300 }, updatedAt: now }, slow);
    assert.equal(poolForecast([a, account('b', { primary: { usedPercent: 0 }, updatedAt: now })], now).state, 'keeps-up');
  });

  it('is out when every account cools down, unbounded with a provider of no known limit, idle with no burn', () => {
    const cooling = { health: { state: 'cooling', until: now + 2 * HOUR } };
    const a = account('a', { primary: { usedPercent: 100, resetsAt: now + 2 * HOUR } }, fast, cooling);
    const b = account('b', { primary: { usedPercent: 100, resetsAt: now + 3 * HOUR } }, [], { health: { state: 'cooling', until: now + 3 * HOUR } });
    assert.deepEqual(poolForecast([a, b], now), { state: 'out', backAt: now + 2 * HOUR });
    assert.equal(poolForecast([account('a', { primary: { usedPercent: 60 } }, fast), account('key', undefined)], now).state, 'unbounded');
    assert.equal(poolForecast([account('a', { primary: { usedPercent: 60 } })], now).state, 'idle');
    assert.equal(poolForecast([account('a', { primary: { usedPercent: 60 } }, fast, { enabled: false })], now).state, 'empty');
  });
});

describe('forecast from the gateway', () => {
  before(ensureBuilt);

  it('learns the pace from the x-codex headers and shows it in the admin API and `aigate accounts list`', async () => {
    const home = await tempHome();
    // The CLI reads the wall clock: the scripted burn ends a few minutes before it.
    const clock = new TestClock(Date.now() - 40 * MIN);
    const resetAt = Math.floor((clock.now() + 5 * HOUR) / 1000);
    const mock = await startMockUpstream({ tag: 'A', rateLimits: { primaryUsed: 10, secondaryUsed: 1, primaryResetAt: resetAt, secondaryResetAt: resetAt + 86_400 * 5 } });
    after(() => mock.close());
    const gw = await startGateway(home, { clock });
    await addProvider(gw, 'a', `${mock.url}/v1`);
    const start = clock.now();
    for (const used of [10, 15, 20]) {
      mock.options.rateLimits!.primaryUsed = used;
      const recorded = once(gw.bus, 'request');
      assert.equal((await postResponses(gw.base, turn('burn'))).status, 200);
      await recorded;
      if (used < 20) clock.advance(15 * MIN);
    }
    // 10 % in 30 minutes is 20 %/h; 80 % left is 4 h after the last reading.
    const forecast = (await adminRequest(gw, 'GET', '/aigate/api/forecast')).json;
    assert.equal(forecast.accounts[0].state, 'runs-out');
    assert.equal(forecast.accounts[0].runsOutAt, start + 30 * MIN + 4 * HOUR);
    assert.equal(forecast.accounts[0].window, 'primary');
    assert.deepEqual(forecast.pool, { state: 'runs-out', lastsUntil: start + 30 * MIN + 4 * HOUR, backAt: resetAt * 1000 });

    await gw.health.flush();
    const list = await runCli(['accounts', 'list'], home.env);
    assert.equal(list.code, 0, list.stderr);
    const runsOut = /\ba\s.*runs out ~((?:\w{3} )?\d\d:\d\d) at this pace/.exec(list.stdout)?.[1];
    const lasts = /Pool lasts until ((?:\w{3} )?\d\d:\d\d) at this pace; back (?:\w{3} )?\d\d:\d\d\./.exec(list.stdout)?.[1];
    assert.ok(runsOut && lasts, list.stdout);
    assert.equal(lasts, runsOut, 'one account: the pool lasts as long as it does');
    const json = JSON.parse((await runCli(['accounts', 'list', '--json'], home.env)).stdout);
    assert.equal(json[0].forecast.state, 'runs-out');
    assert.equal(json[0].quotaSamples, undefined, 'the history stays out of the listing');
    const used = await runCli(['accounts', 'use', 'a', '--json'], home.env);
    assert.equal(used.code, 0, used.stderr);
    assert.equal(JSON.parse(used.stdout).quotaSamples, undefined, 'and out of every account the CLI prints');
  });
});

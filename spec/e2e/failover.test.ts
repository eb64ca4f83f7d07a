/** Failover with the real Codex CLI: a conversation keeps going when its account runs out or breaks. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addProvider, runCli, startGateway, tempHome } from '../_helpers.js';
import { bodyText, seeded, startMockUpstream, type MockUpstream, type Plan } from '../mock-upstream.js';
import { assertLoopbackOnly, execArgs, providerArgs, runCodex } from './_codex.js';

before(assertLoopbackOnly);

/** A gateway with accounts A, B (and C) on their own mock upstreams, each tagging its encrypted reasoning. */
async function conversation(names: string[], chaos?: (name: string) => MockUpstream['options']['chaos']) {
  const home = await tempHome();
  const gw = await startGateway(home);
  const mocks: Record<string, MockUpstream> = {};
  for (const name of names) {
    mocks[name] = await startMockUpstream({ tag: name, reasoning: true, chaos: chaos?.(name) });
    after(() => mocks[name]!.close());
    await addProvider(gw, name, `${mocks[name]!.url}/v1`);
  }
  let turns = 0;
  const turn = (prompt: string) =>
    runCodex(execArgs(prompt, providerArgs(gw.base, { envKey: 'GW_KEY' }), turns++ > 0), { home: home.dir, codexHome: home.paths.codexHome, extra: { GW_KEY: 'codex-side' } });
  /** Which accounts' encrypted reasoning each account was sent. */
  const foreignReasoning = () =>
    Object.entries(mocks).flatMap(([name, mock]) =>
      mock.seen.flatMap((s) => [...bodyText(s).matchAll(/enc:(\w+):/g)].map((m) => m[1]).filter((tag) => tag !== name).map((tag) => `${name} got ${tag}'s`)),
    );
  return { home, gw, mocks, turn, foreignReasoning };
}

const answered = (mock: MockUpstream) => mock.log.filter((k) => k === 'ok').length;

describe('a three-turn conversation where account A fails on turn 2', () => {
  const faults: [string, Plan][] = [
    ['429 usage_limit_reached', { kind: 'usage-limit', resetsAt: Math.floor(Date.now() / 1000) + 3 * 3600 }],
    ['503', { kind: 'status', status: 503 }],
    ['a connection dropped mid-stream', { kind: 'cut', afterEvents: 3 }],
  ];
  for (const [what, fault] of faults) {
    it(`keeps going on B after ${what}`, async () => {
      const t = await conversation(['A', 'B']);
      const one = await t.turn('turn one');
      assert.equal(one.code, 0, one.stderr);
      assert.match(one.stdout, /Hello from A\./);

      t.mocks.A!.plans.push(fault);
      const two = await t.turn('turn two');
      assert.equal(two.code, 0, two.stderr);
      assert.match(two.stdout, /Hello from B\./);

      const three = await t.turn('turn three');
      assert.equal(three.code, 0, three.stderr);
      assert.match(three.stdout, /Hello from B\./);

      assert.equal(answered(t.mocks.A!), 1);
      assert.equal(answered(t.mocks.B!), 2);
      assert.deepEqual(t.foreignReasoning(), []);
      // Turn 3 still carries the conversation: B saw turn 1's user message and its own earlier answer.
      const last = JSON.stringify(t.mocks.B!.seen.at(-1)!.json.input);
      assert.match(last, /turn one/);
      assert.match(last, /Hello from B/);

      await t.gw.health.flush();
      const list = await runCli(['accounts', 'list'], t.home.env);
      const rowA = list.stdout.split('\n').find((l) => /\bA\b/.test(l))!;
      if (fault.kind === 'usage-limit') assert.match(rowA, /cooling down · resets .*\(in 2h5\dm\)/);
      else assert.match(rowA, /degraded/);
    });
  }
});

describe('chaos: a twelve-turn conversation while every account fails 30% of its requests', () => {
  it('completes at least 11 of 12 turns and never leaks an account’s encrypted reasoning to another', async () => {
    const seeds: Record<string, number> = { A: 11, B: 22, C: 33 };
    const t = await conversation(['A', 'B', 'C'], (name) => ({ rate: 0.3, random: seeded(seeds[name]!) }));
    let completed = 0;
    const failures: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const run = await t.turn(`chaos turn ${i}`);
      if (run.code === 0 && /Hello from [ABC]\./.test(run.stdout)) completed++;
      else failures.push(`turn ${i}: exit ${run.code}: ${run.stderr.split('\n').filter(Boolean).slice(-2).join(' | ')}`);
    }
    const faults = Object.fromEntries(Object.entries(t.mocks).map(([n, m]) => [n, m.log.filter((k) => k !== 'ok').length]));
    const requests = Object.fromEntries(Object.entries(t.mocks).map(([n, m]) => [n, m.log.length]));
    console.log(`chaos: ${completed}/12 turns completed; upstream requests ${JSON.stringify(requests)}, faults injected ${JSON.stringify(faults)}`);
    assert.ok(completed >= 11, `only ${completed}/12 turns completed:\n${failures.join('\n')}`);
    assert.ok(Object.values(faults).reduce((a, b) => a + b, 0) >= 3, 'the run really injected faults');
    assert.deepEqual(t.foreignReasoning(), []);
  });
});

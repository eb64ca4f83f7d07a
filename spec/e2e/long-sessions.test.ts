/**
 * Long sessions across accounts with the real Codex CLI (0.171) in the default setup: the built-in
 * provider rerouted, auto-compaction forced low so every turn starts with a remote compaction.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readCompaction } from '../mock-model.js';
import { assertLoopbackOnly } from './_codex.js';
import { compactionBlobs, failures, lastTurnInput, longSession } from './_sessions.js';

before(assertLoopbackOnly);

const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe('a conversation that compacts on one ChatGPT account and moves to another', () => {
  it('completes every turn on B after A runs out; B gets only its own blobs, standing for the earlier turns', async () => {
    const s = await longSession({ login: 'chatgpt', official: ['A', 'B'] });
    await s.turnsOn('A', ['turn one', 'turn two']);
    assert.ok(s.requests().A!.includes('compact'), `A compacted: ${JSON.stringify(s.requests())}`);
    s.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(3 * 3600) });
    await s.turnsOn('B', ['turn three', 'turn four']);
    assert.deepEqual(s.leaks(), []);
    assert.deepEqual(s.mocks.B!.refused, []);
    const blobs = compactionBlobs(lastTurnInput(s.mocks.B!));
    assert.equal(blobs.length, 1, 'B’s last turn carries the conversation as one compaction');
    const stands = readCompaction(blobs[0], 'B');
    assert.ok(stands, `the compaction B was sent is B’s own: ${blobs[0]!.slice(0, 40)}`);
    for (const earlier of ['turn one', 'turn two', 'turn three']) assert.ok(stands.users.includes(earlier), `B’s compaction stands for "${earlier}": ${JSON.stringify(stands.users)}`);
    assert.ok(s.handovers.some((e) => e.account === 'B' && e.from === 'A' && e.outcome === 'compacted'));
    console.log(`A→B: requests ${JSON.stringify(s.requests())}; handovers ${s.handovers.map((e) => `${e.from}→${e.account} ${e.outcome} ${Math.round(e.ms ?? 0)} ms`).join(', ')}`);
  });

  it('moves back to A after A’s reset, and A reads the history B compacted', async () => {
    const s = await longSession({ login: 'chatgpt', official: ['A', 'B'] });
    await s.turnsOn('A', ['turn one', 'turn two']);
    const reset = inSeconds(3);
    s.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt: reset });
    const onB = await s.turn('turn three');
    assert.equal(onB.code, 0, failures(onB));
    assert.match(onB.stdout, /Hello from B\./);
    await sleep(reset * 1000 - Date.now() + 500); // A's reset passes
    s.mocks.B!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(3 * 3600) });
    await s.turnsOn('A', ['turn four', 'turn five']);
    assert.deepEqual(s.leaks(), []);
    const stands = readCompaction(compactionBlobs(lastTurnInput(s.mocks.A!))[0], 'A');
    assert.ok(stands?.users.includes('turn three'), `A’s compaction stands for the turn B answered: ${JSON.stringify(stands)}`);
  });
});

describe('third-party providers that cannot compact remotely (Codex signed in with an API key)', () => {
  it('completes every turn of a long conversation on a provider that rejects compaction_trigger', async () => {
    const s = await longSession({ login: 'apikey', thirdParty: { T: { compaction: 'unsupported' } } });
    await s.turnsOn('T', ['turn 1', 'turn 2', 'turn 3', 'turn 4', 'turn 5']);
    assert.equal(s.mocks.T!.log.filter((k) => k === 'compaction-unsupported').length, 1, 'the refusal is remembered: AI Gate compacts for T from then on');
    const last = JSON.stringify(lastTurnInput(s.mocks.T!));
    assert.match(last, /Summary by T: .*turn 3/, 'T’s turns carry the summary T wrote of the earlier ones');
    assert.doesNotMatch(last, /aigate:summary/);
    assert.equal(s.gw.store.data.accounts[0]!.compaction, 'local');
  });

  it('moves a conversation official → third-party → official after compactions on either side', async () => {
    const s = await longSession({ login: 'apikey', official: ['A'], thirdParty: { T: { compaction: 'unsupported' } } });
    await s.turnsOn('A', ['turn one', 'turn two']);
    const reset = inSeconds(3);
    s.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt: reset });
    await s.turnsOn('T', ['turn three', 'turn four']);
    await sleep(reset * 1000 - Date.now() + 500); // A's reset passes
    s.mocks.T!.plans.push({ kind: 'status', status: 503 });
    const back = await s.turn('turn five');
    assert.equal(back.code, 0, failures(back));
    assert.match(back.stdout, /Hello from A\./);
    assert.deepEqual(s.leaks(), []);
    assert.deepEqual([...s.mocks.A!.refused, ...s.mocks.T!.refused], []);
    assert.match(JSON.stringify(lastTurnInput(s.mocks.A!)), /turn four/);
  });
});

describe('a late server_is_overloaded', () => {
  it('makes Codex re-send the turn, which completes on the next account', async () => {
    const s = await longSession({ login: 'chatgpt', official: ['A', 'B'], mock: { usage: undefined } });
    assert.equal((await s.turn('turn one')).code, 0);
    s.mocks.A!.plans.push({ kind: 'failed-last', code: 'server_is_overloaded' });
    const run = await s.turn('turn two');
    assert.equal(run.code, 0, failures(run));
    assert.match(run.stdout, /Hello from B\./);
    assert.doesNotMatch(run.stderr, /at capacity/);
    assert.deepEqual(s.leaks(), []);
  });
});

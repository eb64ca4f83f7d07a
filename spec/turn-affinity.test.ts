/** A turn, its turn state and a sub-agent's thread stay with their account; a turn state never reaches another. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postResponses, turn } from './_helpers.js';
import { failoverRig, inSeconds } from './_rig.js';

const metadata = (turnId: string) => JSON.stringify({ turn_id: turnId, request_kind: 'turn', session_id: 'x' });

describe('x-codex-turn-state', () => {
  it('goes back to the account that issued it, and never to another', async () => {
    const t = await failoverRig(['A', 'B']);
    const first = await postResponses(t.gw.base, turn('one'), { 'session-id': 'conv' });
    const state = first.headers.get('x-codex-turn-state');
    assert.match(state ?? '', /^ts:A:/);
    await postResponses(t.gw.base, turn('tool follow-up'), { 'session-id': 'conv', 'x-codex-turn-state': state! });
    assert.equal(t.mocks.A!.seen.at(-1)!.headers['x-codex-turn-state'], state);
    // A breaks mid-turn: the re-send carries A's token, which B must never see (the mock would refuse it).
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    const moved = await postResponses(t.gw.base, turn('re-sent'), { 'session-id': 'conv', 'x-codex-turn-state': state! });
    assert.equal(moved.status, 200);
    assert.equal(t.mocks.B!.seen.at(-1)!.headers['x-codex-turn-state'], undefined);
    assert.deepEqual(t.mocks.B!.refused, []);
  });

  it('goes nowhere but where the conversation has always been when the gateway did not see it issued', async () => {
    const t = await failoverRig(['A', 'B']);
    await postResponses(t.gw.base, turn('one'), { 'session-id': 'conv' });
    await postResponses(t.gw.base, turn('two'), { 'session-id': 'conv', 'x-codex-turn-state': 'ts:A:from-before-a-restart' });
    assert.equal(t.mocks.A!.seen.at(-1)!.headers['x-codex-turn-state'], 'ts:A:from-before-a-restart');
    await postResponses(t.gw.base, turn('three'), { 'session-id': 'new-conv', 'x-codex-turn-state': 'ts:B:unknown' });
    assert.equal(t.mocks.A!.seen.at(-1)!.headers['x-codex-turn-state'], undefined, 'a conversation this gateway never saw gets no token it did not issue');
  });
});

describe('turn and sub-agent affinity', () => {
  it('sends a sub-agent’s thread to its parent thread’s account while it is healthy', async () => {
    const t = await failoverRig(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    await postResponses(t.gw.base, turn('parent'), { 'session-id': 'parent' }); // A fails, B takes the parent
    t.clock.advance(31_000); // A's backoff passes: A is healthy and preferred again
    await postResponses(t.gw.base, turn('child'), { 'session-id': 'child', 'thread-id': 'child', 'x-codex-parent-thread-id': 'parent' });
    assert.match(JSON.stringify(t.mocks.B!.seen.at(-1)!.json), /child/);
    await postResponses(t.gw.base, turn('unrelated'), { 'session-id': 'other' });
    assert.match(JSON.stringify(t.mocks.A!.seen.at(-1)!.json), /unrelated/, 'a thread without a parent goes to the preferred account');
  });

  it('keeps a turn’s requests on the account that took the turn', async () => {
    const t = await failoverRig(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    await postResponses(t.gw.base, turn('turn start'), { 'session-id': 's1', 'x-codex-turn-metadata': metadata('turn-1') });
    t.clock.advance(31_000);
    // A request of the same turn under another key (a prewarm or a helper request) still goes to B.
    await postResponses(t.gw.base, turn('same turn'), { 'session-id': 's2', 'x-codex-turn-metadata': metadata('turn-1') });
    assert.match(JSON.stringify(t.mocks.B!.seen.at(-1)!.json), /same turn/);
  });

  it('lets go of the bound account once it is unhealthy', async () => {
    const t = await failoverRig(['A', 'B']);
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    await postResponses(t.gw.base, turn('parent'), { 'session-id': 'parent' }); // A fails, B takes the parent
    t.clock.advance(31_000); // A is healthy again, but the parent's thread is bound to B
    // B runs out (on a request pinned to it, so the parent's thread stays bound to B).
    t.mocks.B!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 9000) });
    await postResponses(`${t.gw.base}/accounts/B`, turn('pinned'));
    const seenByB = t.mocks.B!.seen.length;
    const res = await postResponses(t.gw.base, turn('child'), { 'session-id': 'child', 'x-codex-parent-thread-id': 'parent' });
    assert.equal(res.status, 200);
    assert.match(JSON.stringify(t.mocks.A!.seen.at(-1)!.json), /child/);
    assert.equal(t.mocks.B!.seen.length, seenByB, 'the cooling account is not even tried');
  });
});

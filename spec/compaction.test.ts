/** Compaction moves with its conversation: every account is sent only compaction blobs it made itself. */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { describe, it } from 'node:test';
import { blobKey, Compactions } from '../src/state/compactions.js';
import { compactionsDir } from '../src/state/paths.js';
import { Vault } from '../src/state/secrets.js';
import type { HandoverEvent } from '../src/state/events.js';
import { parseSse, postResponses, startGateway, tempHome, TestClock, turn } from './_helpers.js';
import { compactionBlobs, readCompaction } from './mock-model.js';
import { leaks, type MockUpstream } from './mock-upstream.js';
import { failoverRig, inSeconds } from './_rig.js';

const user = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
const assistant = (text: string) => ({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
const TRIGGER = { type: 'compaction_trigger' };

type Rig = Awaited<ReturnType<typeof failoverRig>>;

/** Posts a Responses request with this input in conversation `conv`; the parsed events. */
async function send(t: Rig, input: unknown[], conv = 'conv') {
  const res = await postResponses(t.gw.base, turn('', { input }), { 'session-id': conv });
  assert.equal(res.status, 200, res.text);
  return parseSse(res.text);
}

/** Codex's compaction request: the history, then the trigger; the one compaction item it gets back. */
async function compact(t: Rig, history: unknown[], conv = 'conv') {
  const events = await send(t, [...history, TRIGGER], conv);
  const item = events.find((e) => e.type === 'response.output_item.done')?.item;
  assert.equal(item?.type, 'compaction', JSON.stringify(events));
  return item as { type: 'compaction'; encrypted_content: string };
}


const lastInput = (mock: MockUpstream) => mock.seen.at(-1)!.json.input as any[];

describe('a compaction that stays on its account', () => {
  it('is kept with its history and sent on byte for byte', async () => {
    const t = await failoverRig(['A', 'B']);
    const history = [user('turn one'), assistant('answer one')];
    const item = await compact(t, history);
    assert.deepEqual(readCompaction(item.encrypted_content, 'A')?.users, ['turn one']);
    const raw = JSON.stringify(turn('', { input: [user('turn one'), item, user('turn two')] }));
    await postResponses(t.gw.base, raw, { 'session-id': 'conv' });
    assert.equal(t.mocks.A!.seen.at(-1)!.raw.toString(), raw);
    const kept = await fs.readdir(compactionsDir(t.home.paths));
    assert.equal(kept.length, 1);
    assert.doesNotMatch(await fs.readFile(`${compactionsDir(t.home.paths)}/${kept[0]}`, 'utf8'), /turn one|answer one/, 'the kept history is sealed');
  });
});

describe('a compaction whose conversation moves', () => {
  it('has the next account compact the same history for itself, once, and carries that in every later request', async () => {
    const t = await failoverRig(['A', 'B']);
    const events: HandoverEvent[] = [];
    t.gw.bus.on('handover', (e) => events.push(e));
    const item = await compact(t, [user('turn one'), assistant('answer one')]);
    t.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 9000) });
    await send(t, [user('turn one'), item, user('turn two')]);
    // B compacted A's kept history itself, then got the turn with its own blob in place of A's.
    assert.deepEqual(t.mocks.B!.log, ['ok', 'ok']);
    assert.equal(t.mocks.B!.seen[0]!.json.input.at(-1).type, 'compaction_trigger');
    const [own] = compactionBlobs(lastInput(t.mocks.B!));
    assert.deepEqual(readCompaction(own, 'B'), { users: ['turn one'], assistants: ['answer one'], tools: [] });
    assert.deepEqual(lastInput(t.mocks.B!).map((i) => i.type), ['message', 'compaction', 'message']);
    await send(t, [user('turn one'), item, user('turn two'), assistant('Hello from B.'), user('turn three')]);
    assert.equal(t.mocks.B!.log.length, 3, 'the second request reuses B’s compaction');
    assert.deepEqual(compactionBlobs(lastInput(t.mocks.B!)), [own]);
    assert.deepEqual(events.map((e) => [e.account, e.from, e.outcome]), [['B', 'A', 'compacted']]);
    assert.deepEqual(leaks(t.mocks), []);
  });

  it('hands nested compactions over first', async () => {
    const t = await failoverRig(['A', 'B']);
    const first = await compact(t, [user('turn one'), assistant('answer one')]);
    const second = await compact(t, [user('turn one'), first, user('turn two'), assistant('answer two')]);
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    await send(t, [user('turn one'), user('turn two'), second, user('turn three')]);
    // B compacted the first history, then the second with its own first in it, then took the turn.
    assert.deepEqual(t.mocks.B!.seen.map((s) => s.json.input.at(-1).type), ['compaction_trigger', 'compaction_trigger', 'message']);
    const [own] = compactionBlobs(lastInput(t.mocks.B!));
    assert.deepEqual(readCompaction(own, 'B'), { users: ['turn one', 'turn one', 'turn two'], assistants: ['answer one', 'answer two'], tools: [] });
    assert.deepEqual(leaks(t.mocks), []);
  });

  it('moves back to the first account after its reset without a request more: it reads its own blob again', async () => {
    const t = await failoverRig(['A', 'B']);
    const item = await compact(t, [user('turn one'), assistant('answer one')]);
    t.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 60) });
    await send(t, [user('turn one'), item, user('turn two')]);
    // B compacts (with its stand-in for A's blob), B runs out, A is back: A reads B's compaction of its own history.
    const onB = await compact(t, [user('turn one'), item, user('turn two'), assistant('Hello from B.')]);
    t.clock.advance(61_000);
    t.gw.health.sweep();
    t.mocks.B!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 9000) });
    const seenByA = t.mocks.A!.seen.length;
    await send(t, [user('turn one'), user('turn two'), onB, user('turn three')]);
    // One compaction of B's kept history (A's own blob inside it is sent as it is), then the turn.
    const kinds = t.mocks.A!.seen.slice(seenByA).map((r) => (r.json.input as any[]).at(-1)?.type);
    assert.deepEqual(kinds, ['compaction_trigger', 'message']);
    const [onA] = compactionBlobs(lastInput(t.mocks.A!));
    assert.deepEqual(readCompaction(onA, 'A')?.users, ['turn one', 'turn one', 'turn two']);
    assert.deepEqual(leaks(t.mocks), []);
  });
});

describe('accounts that cannot compact remotely', () => {
  it('get AI Gate’s own compaction: a summary the account wrote, expanded into plain text for every account after', async () => {
    const t = await failoverRig(['T', 'A'], { mocks: { T: { compaction: 'unsupported' } } });
    const item = await compact(t, [user('turn one'), assistant('answer one')]);
    assert.deepEqual(t.mocks.T!.log, ['compaction-unsupported', 'ok']);
    assert.equal(t.gw.store.data.accounts.find((a) => a.name === 'T')!.compaction, 'local');
    assert.match(item.encrypted_content, /^aigate:summary:v1:/);
    // Remembered: the next compaction goes straight to a summary request.
    await compact(t, [user('turn one'), item, user('turn two')]);
    assert.equal(t.mocks.T!.log.at(-1), 'ok');
    assert.equal(t.mocks.T!.log.filter((k) => k === 'compaction-unsupported').length, 1);
    // Whoever takes the conversation next reads the summary as text; no account is ever sent the item itself.
    t.mocks.T!.plans.push({ kind: 'status', status: 500 });
    await send(t, [user('turn one'), item, user('turn three')]);
    const seen = JSON.stringify(lastInput(t.mocks.A!));
    assert.match(seen, /Summary by T: .*turn one.*answer one/);
    assert.doesNotMatch(seen, /aigate:summary/);
  });

  it('keep a conversation going official → third-party → official with compactions on either side', async () => {
    const t = await failoverRig(['A', 'T'], { mocks: { T: { compaction: 'unsupported' } } });
    const onA = await compact(t, [user('turn one'), assistant('answer one')]);
    t.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 60) });
    await send(t, [user('turn one'), onA, user('turn two')]);
    assert.match(JSON.stringify(lastInput(t.mocks.T!)), /Summary by T: .*turn one/);
    const onT = await compact(t, [user('turn one'), onA, user('turn two'), assistant('Hello from T.')]);
    assert.match(onT.encrypted_content, /^aigate:summary:v1:/);
    t.clock.advance(61_000);
    t.gw.health.sweep();
    t.mocks.T!.plans.push({ kind: 'status', status: 503 });
    await send(t, [user('turn one'), user('turn two'), onT, user('turn three')]);
    assert.match(JSON.stringify(lastInput(t.mocks.A!)), /Summary by T: .*turn two/);
    assert.deepEqual(leaks(t.mocks), []);
    assert.deepEqual([...t.mocks.A!.refused, ...t.mocks.T!.refused], []);
  });
});

describe('history that is not kept', () => {
  it('degrades to a note, announced, when the kept history is gone — the foreign blob is never sent', async () => {
    const t = await failoverRig(['A', 'B']);
    const item = await compact(t, [user('turn one'), assistant('answer one')]);
    await t.gw.stop(0);
    await fs.rm(compactionsDir(t.home.paths), { recursive: true });
    const gw = await startGateway(t.home, { clock: t.clock, env: t.gw.env });
    const events: HandoverEvent[] = [];
    gw.bus.on('handover', (e) => events.push(e));
    t.mocks.A!.plans.push({ kind: 'status', status: 503 });
    const res = await postResponses(gw.base, turn('', { input: [user('turn one'), item, user('turn two')] }), { 'session-id': 'conv' });
    assert.equal(res.status, 200);
    const input = lastInput(t.mocks.B!);
    assert.deepEqual(compactionBlobs(input), []);
    assert.match(JSON.stringify(input), /compacted by another account, and that history is not available/);
    assert.deepEqual(events.map((e) => [e.account, e.outcome]), [['B', 'lost']]);
    // The next turn carries the same blob: the note again, but the loss is not announced again.
    const next = await postResponses(gw.base, turn('', { input: [user('turn one'), item, user('turn two'), assistant('answer two'), user('turn three')] }), { 'session-id': 'conv' });
    assert.equal(next.status, 200);
    assert.deepEqual(compactionBlobs(lastInput(t.mocks.B!)), []);
    assert.match(JSON.stringify(lastInput(t.mocks.B!)), /that history is not available/);
    assert.equal(events.length, 1);
    assert.deepEqual(t.mocks.B!.refused, []);
  });

  it('unsticks a conversation whose blob of unknown origin the account refuses, and does not send it again', async () => {
    const t = await failoverRig(['A']);
    const stranger = { type: 'compaction', encrypted_content: 'cmp:Z:e30' };
    await send(t, [user('turn one'), stranger, user('turn two')], 'old');
    assert.deepEqual(t.mocks.A!.log, ['refused', 'ok']);
    await send(t, [user('turn one'), stranger, user('turn two'), assistant('Hello from A.'), user('turn three')], 'old');
    assert.deepEqual(t.mocks.A!.log, ['refused', 'ok', 'ok']);
    assert.deepEqual(compactionBlobs(lastInput(t.mocks.A!)), []);
  });
});

describe('the kept history', () => {
  it('survives a restart, and is forgotten once unused for 30 days', async () => {
    const home = await tempHome();
    const clock = new TestClock(Date.parse('2026-03-10T10:00:00Z'));
    const vault = Vault.fromKey(Buffer.alloc(32, 9));
    const kept = new Compactions(home.paths, vault, clock);
    await kept.load();
    await kept.remember('cmp:A:blob', 'acct-a', [user('a secret plan')]);
    const again = new Compactions(home.paths, vault, clock);
    await again.load();
    assert.equal(again.producerOf(blobKey('cmp:A:blob')), 'acct-a');
    assert.deepEqual(await again.inputOf(blobKey('cmp:A:blob')), [user('a secret plan')]);
    clock.advance(29 * 86_400_000);
    assert.equal(await again.prune(), 0);
    clock.advance(2 * 86_400_000);
    assert.equal(await again.prune(), 1);
    assert.equal(await again.inputOf(blobKey('cmp:A:blob')), undefined);
    assert.deepEqual(await fs.readdir(compactionsDir(home.paths)), []);
  });
});

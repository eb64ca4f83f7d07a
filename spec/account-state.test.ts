/** State only one account can read (encrypted reasoning, previous_response_id) never reaches another. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postResponses, turn } from './_helpers.js';
import { failoverRig as setup, inSeconds } from './_rig.js';

describe('state only one account can read', () => {
  const history = (tag: string) => [
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'turn 1' }] },
    { type: 'reasoning', id: `rs_${tag}`, summary: [], encrypted_content: `enc:${tag}:secret` },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'answer 1' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'turn 2' }] },
  ];

  it('never alters a request that stays on the account that produced its items', async () => {
    const t = await setup(['A', 'B']);
    await t.ask('turn 1', 'conv');
    const raw = JSON.stringify(turn('', { input: history('A') }));
    await postResponses(t.gw.base, raw, { 'session-id': 'conv' });
    assert.equal(t.mocks.A!.seen.at(-1)!.raw.toString(), raw);
  });

  it('strips encrypted reasoning and previous_response_id when the conversation moves, and remembers every account that served it', async () => {
    const t = await setup(['A', 'B', 'C']);
    await t.ask('turn 1', 'conv'); // A
    t.mocks.A!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 9000) });
    await postResponses(t.gw.base, turn('', { input: history('A'), previous_response_id: 'resp_A_1' }), { 'session-id': 'conv' });
    const toB = t.mocks.B!.seen.at(-1)!.json;
    assert.ok(!JSON.stringify(toB).includes('enc:A'));
    assert.equal(toB.previous_response_id, undefined);
    assert.equal(toB.input.filter((i: { type: string }) => i.type === 'message').length, 3);
    // Turn 3 stays on B but still carries turn 1's reasoning from A: that goes, B's own stays out too.
    const turn3 = [...history('A'), { type: 'reasoning', id: 'rs_B', summary: [], encrypted_content: 'enc:B:own' }];
    await postResponses(t.gw.base, turn('', { input: turn3 }), { 'session-id': 'conv' });
    const third = t.mocks.B!.seen.at(-1)!.json;
    assert.ok(!JSON.stringify(third).includes('enc:A'));
  });

  it('retries once without the encrypted state when the account says it cannot read it', async () => {
    const t = await setup(['A']);
    // History from before AI Gate: reasoning made by an account the gateway never saw. A refuses it with a 400.
    const res = await postResponses(t.gw.base, turn('', { input: history('X') }), { 'session-id': 'old-session' });
    assert.equal(res.status, 200);
    assert.deepEqual(t.mocks.A!.log, ['refused', 'ok']);
    assert.ok(!t.mocks.A!.seen[1]!.raw.toString().includes('enc:X'));
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountResets } from '../src/proxy/exhausted.js';
import { formatResetTime } from '../src/state/account-status.js';
import type { AccountRecord } from '../src/state/schema.js';
import { adminRequest, TestClock } from './_helpers.js';
import { failoverRig, inSeconds } from './_rig.js';

const HOUR = 3_600_000;

describe('routing: soonest-reset', () => {
  /** A, B, C with their 5-hour windows resetting in `hours` (A is the preferred account). */
  async function rig(hours: Record<string, number>) {
    const t = await failoverRig(Object.keys(hours));
    await t.gw.store.update((d) => {
      for (const a of d.accounts) a.quota = { primary: { usedPercent: 40, resetsAt: t.clock.now() + hours[a.name]! * HOUR }, updatedAt: t.clock.now() };
    });
    const setRouting = (routing: string) => adminRequest(t.gw, 'PATCH', '/aigate/api/settings', { body: { routing } });
    const setReset = (name: string, h: number) =>
      t.gw.store.update((d) => void (d.accounts.find((a) => a.name === name)!.quota!.primary!.resetsAt = t.clock.now() + h * HOUR));
    return { ...t, setRouting, setReset };
  }

  it('sends new conversations to the account whose window resets first, and keeps conversations where they are', async () => {
    const t = await rig({ A: 4, B: 1, C: 2 });
    assert.equal(t.answeredBy(await t.ask('order', 'order-1')), 'A', 'the default routing is the preferred account');
    const set = await t.setRouting('soonest-reset');
    assert.equal(set.status, 200, set.text);
    assert.equal(set.json.routing, 'soonest-reset');

    assert.equal(t.answeredBy(await t.ask('one', 's1')), 'B');
    await t.setReset('C', 0.5);
    assert.equal(t.answeredBy(await t.ask('two', 's1')), 'B', 'a conversation stays on its account');
    assert.equal(t.answeredBy(await t.ask('new', 's2')), 'C');
    assert.equal(t.answeredBy(await t.ask('order', 'order-1')), 'A', 'and so does the one from before the change');

    // A reset that has passed says nothing about the next one: such an account goes after those with a known reset.
    await t.setReset('C', -1);
    assert.equal(t.answeredBy(await t.ask('newer', 's3')), 'B');
  });

  it('still skips a cooling account and fails over in reset order', async () => {
    const t = await rig({ A: 4, B: 1, C: 2 });
    await t.setRouting('soonest-reset');
    t.mocks.B!.plans.push({ kind: 'usage-limit', resetsAt: inSeconds(t.clock, 3600) });
    assert.equal(t.answeredBy(await t.ask('one')), 'C');
    assert.deepEqual(t.events.map((e) => [e.from, e.to]), [['B', 'C']]);
  });

  it('refuses an unknown routing and changes nothing', async () => {
    const t = await rig({ A: 1 });
    const bad = await t.setRouting('random');
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /routing/);
    assert.equal(t.gw.store.data.settings.routing, undefined);
    assert.equal((await adminRequest(t.gw, 'GET', '/aigate/api/settings')).json.routing, 'order');
  });
});

describe('when every account is out', () => {
  it("names each account and its reset in Codex's promo message header, soonest first", async () => {
    const t = await failoverRig(['work', 'home', 'spare']);
    const resets = { work: inSeconds(t.clock, 3 * 3600), home: inSeconds(t.clock, 2 * 86_400), spare: inSeconds(t.clock, 1800) };
    for (const [name, at] of Object.entries(resets)) t.mocks[name]!.plans.push({ kind: 'usage-limit', resetsAt: at });
    const res = await t.ask('hi');
    assert.equal(res.status, 429);
    const at = (name: keyof typeof resets) => formatResetTime(resets[name] * 1000, t.clock.now());
    const expected = `spare resets ${at('spare')}, work resets ${at('work')}, home resets ${at('home')}`;
    assert.equal(res.headers.get('x-codex-promo-message'), `AI Gate: ${expected}`);
    assert.match(JSON.parse(res.text).error.message, new RegExp(`usage limit \\(${expected}\\)`));
  });

  it('keeps the header printable ASCII whatever the names, and short', () => {
    const clock = new TestClock(Date.UTC(2026, 2, 3, 9));
    const account = (name: string, hours: number): AccountRecord =>
      ({ id: name, name, kind: 'official', enabled: true, secret: '', addedAt: '', health: { state: 'cooling', until: clock.now() + hours * HOUR } }) as AccountRecord;
    const health = { current: (a: AccountRecord) => a.health };
    const text = accountResets([account('café', 1), account('工作', 2), account('ok', 3)], { health } as never, clock.now());
    assert.match(text, /^cafe resets \S+, \?\? resets \S+, ok resets \S+$/);
    const many = Array.from({ length: 40 }, (_, i) => account(`account-number-${i}`, i + 1));
    const long = accountResets(many, { health } as never, clock.now());
    assert.ok(long.length < 330, `${long.length} characters`);
    assert.match(long, / and \d+ more$/);
    assert.match(long, /^[\x20-\x7e]+$/);
  });
});

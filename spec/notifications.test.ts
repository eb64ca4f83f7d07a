import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus } from '../src/state/events.js';
import { translator, type Locale } from '../src/i18n/i18n.js';
import type { TrayAccount } from '../src/tray/menu-model.js';
import { accountStateNotice, exhaustedNotice, failoverNotice, handoverNotice, startNotifier, type Notice, type NoticeContext } from '../src/tray/notifications.js';
import { TestClock } from './_helpers.js';

const NOW = new Date(2026, 2, 3, 9, 0).getTime(); // a Tuesday
const TUE_14 = new Date(2026, 2, 3, 14, 0).getTime();
const FRI_14 = new Date(2026, 2, 6, 14, 0).getTime();

const account = (name: string, extra: Partial<TrayAccount> = {}): TrayAccount => ({ id: `id-${name}`, name, kind: 'official', enabled: true, health: { state: 'ok' }, ...extra });

function context(extra: Partial<NoticeContext> = {}, locale: Locale = 'en'): NoticeContext {
  return { now: NOW, locale, t: translator(locale), accounts: [account('A'), account('B')], active: 'id-A', ...extra };
}

/** A notifier on a real bus with a settable clock; returns what it showed. */
function harness(options: { enabled?: () => boolean; accounts?: TrayAccount[] } = {}) {
  const bus = new EventBus();
  const clock = new TestClock(NOW);
  const shown: Notice[] = [];
  const stop = startNotifier({
    bus,
    clock,
    context: () => ({ locale: 'en', t: translator('en'), accounts: options.accounts ?? [account('A'), account('B')], active: 'id-A' }),
    enabled: options.enabled ?? (() => true),
    show: (n) => shown.push(n),
  });
  return { bus, clock, shown, stop };
}

describe('notification texts', () => {
  it('names both accounts, the weekly limit and when the first one resets', () => {
    const ctx = context({ accounts: [account('A', { quota: { secondary: { usedPercent: 100 }, primary: { usedPercent: 30 } } }), account('B')] });
    const n = failoverNotice({ at: NOW, from: 'A', to: 'B', reason: 'usage-limit', status: 429, resetsAt: FRI_14 }, ctx)!;
    assert.equal(`${n.title}: ${n.body}`, 'Switched A → B: weekly limit reached, A resets Fri 14:00');
  });

  it('tells the 5-hour limit from the weekly one by the reset time when the quota is unknown', () => {
    const short = failoverNotice({ at: NOW, from: 'A', to: 'B', reason: 'usage-limit', resetsAt: TUE_14 }, context())!;
    assert.equal(short.body, 'usage limit reached, A resets 14:00');
    const long = failoverNotice({ at: NOW, from: 'A', to: 'B', reason: 'usage-limit', resetsAt: FRI_14 }, context())!;
    assert.equal(long.body, 'weekly limit reached, A resets Fri 14:00');
    const server = failoverNotice({ at: NOW, from: 'A', to: 'B', reason: 'server-error', status: 502 }, context())!;
    assert.equal(server.body, 'server error 502');
  });

  it('leaves a failover with nowhere to go to the exhausted notice', () => {
    assert.equal(failoverNotice({ at: NOW, from: 'A', reason: 'usage-limit' }, context()), undefined);
  });

  it('says which account is back first when all are exhausted', () => {
    const accounts = [account('A', { health: { state: 'cooling', until: FRI_14 } }), account('B', { health: { state: 'cooling', until: TUE_14 } })];
    const n = exhaustedNotice({ at: NOW, resetsAt: TUE_14 }, context({ accounts }));
    assert.equal(n.title, 'Every account is out of quota');
    assert.equal(n.body, 'B is back first, at 14:00.');
    assert.equal(exhaustedNotice({ at: NOW }, context({ accounts: [] })).body, 'No reset time is known. Add an account or wait.');
  });

  it('tells about sign-in and about the preferred account coming back, not about others', () => {
    const login = accountStateNotice({ at: NOW, account: 'B', from: 'ok', to: 'needs-login' }, context())!;
    assert.equal(login.title, 'B needs sign-in');
    const back = accountStateNotice({ at: NOW, account: 'A', from: 'cooling', to: 'ok', reason: 'reset' }, context())!;
    assert.equal(back.title, 'A is back');
    assert.equal(accountStateNotice({ at: NOW, account: 'B', from: 'cooling', to: 'ok' }, context()), undefined);
    assert.equal(accountStateNotice({ at: NOW, account: 'A', from: 'ok', to: 'cooling' }, context()), undefined);
  });

  it('tells when a conversation moved without its compacted history, and only then', () => {
    const lost = handoverNotice({ at: NOW, account: 'B', from: 'A', outcome: 'lost' }, context())!;
    assert.equal(lost.title, 'B took over without the earlier history');
    assert.match(lost.body, /compacted this conversation on A, .*B continues from the recent turns only/);
    assert.match(handoverNotice({ at: NOW, account: 'B', outcome: 'lost' }, context())!.body, /on another account/);
    assert.equal(handoverNotice({ at: NOW, account: 'B', from: 'A', outcome: 'lost' }, context({}, 'zh-CN'))!.title, 'B 接手了对话，但没有更早的历史');
    for (const outcome of ['compacted', 'summarized', 'local'] as const) assert.equal(handoverNotice({ at: NOW, account: 'B', from: 'A', outcome }, context()), undefined);
  });

  it('speaks Simplified Chinese', () => {
    const n = failoverNotice({ at: NOW, from: 'A', to: 'B', reason: 'usage-limit', resetsAt: FRI_14 }, context({}, 'zh-CN'))!;
    assert.equal(n.title, '已从 A 切换到 B');
    assert.equal(n.body, '本周额度已用完，A 将于 周五 14:00 重置');
  });
});

describe('notification rate limiting', () => {
  it('turns a storm of fifty failovers into one notification', () => {
    const { bus, clock, shown } = harness();
    for (let i = 0; i < 50; i++) {
      bus.emit('failover', { at: clock.now(), from: i % 2 ? 'A' : 'B', to: i % 2 ? 'B' : 'A', reason: 'rate-limit', status: 429 });
      clock.advance(500);
    }
    assert.equal(shown.length, 1);
    assert.equal(shown[0]!.title, 'Switched B → A');
  });

  it('still says at once that every account is out, but only once per storm', () => {
    const { bus, clock, shown } = harness();
    bus.emit('failover', { at: clock.now(), from: 'A', to: 'B', reason: 'usage-limit', resetsAt: TUE_14 });
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      bus.emit('exhausted', { at: clock.now(), resetsAt: TUE_14 });
    }
    assert.deepEqual(shown.map((n) => n.key), ['failover:A', 'exhausted']);
  });

  it('shows the same news again after the quiet period', () => {
    const { bus, clock, shown } = harness();
    const fail = () => bus.emit('failover', { at: clock.now(), from: 'A', to: 'B', reason: 'timeout' });
    fail();
    clock.advance(5 * 60_000);
    fail();
    assert.equal(shown.length, 1);
    clock.advance(5 * 60_000);
    fail();
    assert.equal(shown.length, 2);
  });

  it('shows nothing while notifications are off, and stops when unsubscribed', () => {
    let enabled = false;
    const { bus, clock, shown, stop } = harness({ enabled: () => enabled });
    bus.emit('exhausted', { at: clock.now() });
    bus.emit('account-state', { at: clock.now(), account: 'B', from: 'ok', to: 'needs-login' });
    assert.equal(shown.length, 0);
    enabled = true;
    bus.emit('account-state', { at: clock.now(), account: 'B', from: 'ok', to: 'needs-login' });
    assert.equal(shown.length, 1);
    bus.emit('handover', { at: clock.now(), account: 'B', from: 'A', outcome: 'compacted', ms: 12 });
    bus.emit('handover', { at: clock.now(), account: 'B', from: 'A', outcome: 'lost' });
    assert.deepEqual(shown.map((n) => n.key), ['needs-login:B', 'history-lost:B']);
    stop();
    clock.advance(3600_000);
    bus.emit('exhausted', { at: clock.now() });
    assert.equal(shown.length, 2);
    assert.equal(bus.listenerCount('exhausted'), 0);
    assert.equal(bus.listenerCount('handover'), 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translator, type Locale } from '../src/i18n/i18n.js';
import { allExhausted, buildMenu, trayLook, type MenuItem, type TrayAccount, type TrayState } from '../src/tray/menu-model.js';

// Local times, so the labels do not depend on the machine's time zone.
const NOW = new Date(2026, 2, 3, 9, 0).getTime();
const AT_14 = new Date(2026, 2, 3, 14, 0).getTime();
const WED_14 = new Date(2026, 2, 4, 14, 0).getTime(); // the next day

function account(name: string, extra: Partial<TrayAccount> = {}): TrayAccount {
  return { id: `id-${name}`, name, kind: 'official', plan: 'plus', enabled: true, health: { state: 'ok' }, ...extra };
}

function state(extra: Partial<TrayState> = {}): TrayState {
  return {
    now: NOW,
    locale: 'en',
    language: 'system',
    accounts: [],
    settings: { failover: true, notifications: true },
    backups: [],
    launchAtLogin: false,
    ...extra,
  };
}

const menu = (s: TrayState, locale: Locale = s.locale) => buildMenu(s, translator(locale));
const find = (items: MenuItem[], id: string): MenuItem | undefined => {
  for (const item of items) {
    if (item.id === id) return item;
    const inner = item.submenu && find(item.submenu, id);
    if (inner) return inner;
  }
  return undefined;
};
const get = (items: MenuItem[], id: string): MenuItem => find(items, id) ?? assert.fail(`no menu item ${id}`);
const accountItems = (items: MenuItem[]) => items.filter((i) => i.id.startsWith('account-'));
const allIds = (items: MenuItem[]): string[] => items.flatMap((i) => [i.id, ...allIds(i.submenu ?? [])]);

describe('tray menu model', () => {
  it('with no accounts offers to add one and shows the icon as off', () => {
    const s = state();
    const items = menu(s);
    assert.equal(accountItems(items).length, 0);
    assert.deepEqual(get(items, 'no-accounts').action, { kind: 'open', view: 'accounts' });
    assert.equal(find(items, 'accounts-header'), undefined);
    const look = trayLook(s, translator('en'));
    assert.equal(look.icon, 'off');
    assert.match(look.tooltip, /Active: no account/);
    assert.equal(allExhausted(s), false);
  });

  it('shows one account with its kind and quota, checked and switchable', () => {
    const work = account('work', { quota: { primary: { usedPercent: 42.4 }, secondary: { usedPercent: 81 } } });
    const items = menu(state({ accounts: [work], settings: { active: work.id, failover: true, notifications: true } }));
    const [item, ...rest] = accountItems(items);
    assert.equal(rest.length, 0);
    assert.equal(item!.label, 'work — ChatGPT Plus · 5h 42% · week 81%');
    assert.equal(item!.type, 'checkbox');
    assert.equal(item!.checked, true);
    assert.deepEqual(item!.action, { kind: 'use-account', name: 'work' });
    assert.equal(get(items, 'accounts-header').enabled, false);
  });

  it('lists many accounts in the user order with a check on the active one only', () => {
    const accounts = [
      account('a'),
      account('b', { kind: 'third-party', plan: undefined, baseUrl: 'https://api.example.com/v1' }),
      account('c', { enabled: false }),
    ];
    const items = menu(state({ accounts, settings: { active: 'id-b', failover: true, notifications: true } }));
    const shown = accountItems(items);
    assert.deepEqual(shown.map((i) => i.id), ['account-id-a', 'account-id-b', 'account-id-c']);
    assert.deepEqual(shown.map((i) => i.checked), [false, true, false]);
    assert.equal(shown[0]!.label, 'a — ChatGPT Plus · ready');
    assert.equal(shown[1]!.label, 'b — API · api.example.com · ready');
    assert.equal(shown[2]!.label, 'c — ChatGPT Plus · disabled');
    // Choosing a disabled account uses it (which enables it).
    assert.deepEqual(shown[2]!.action, { kind: 'use-account', name: 'c' });
  });

  it('says when a cooling account resets, and reads it as ready once the time has passed', () => {
    const cooling = account('a', { health: { state: 'cooling', until: AT_14 } });
    assert.equal(accountItems(menu(state({ accounts: [cooling] })))[0]!.label, 'a — ChatGPT Plus · cooling down · resets 14:00');
    const later = accountItems(menu(state({ accounts: [cooling], now: AT_14 + 1 })))[0]!;
    assert.equal(later.label, 'a — ChatGPT Plus · ready');
    const nextDay = accountItems(menu(state({ accounts: [account('b', { health: { state: 'cooling', until: WED_14 } })] })))[0]!;
    assert.equal(nextDay.label, 'b — ChatGPT Plus · cooling down · resets Wed 14:00');
  });

  it('says when a burning account runs out and how long the pool lasts, at this pace', () => {
    const MIN = 60_000;
    // 20 % an hour on work's 5-hour window (resets 14:00): 70 % left at 09:00 runs out at 12:30.
    const quotaSamples = [-30, -15, 0].map((m, i) => ({ at: NOW + m * MIN, primary: 20 + 5 * (i + 2) }));
    const work = account('work', { quota: { primary: { usedPercent: 30, resetsAt: AT_14 }, updatedAt: NOW }, quotaSamples });
    // home has 10 % left: half an hour at the same pace once work is out.
    const home = account('home', { quota: { primary: { usedPercent: 90, resetsAt: AT_14 } } });
    const items = menu(state({ accounts: [work, home] }));
    assert.equal(accountItems(items)[0]!.label, 'work — ChatGPT Plus · 5h 30% · runs out ~12:30 at this pace');
    assert.equal(accountItems(items)[1]!.label, 'home — ChatGPT Plus · 5h 90%');
    assert.deepEqual(get(items, 'pool-forecast'), { id: 'pool-forecast', type: 'normal', label: 'Pool lasts until 13:00 at this pace; back 14:00', enabled: false });
    assert.equal(get(menu(state({ accounts: [work, home] }), 'zh-CN'), 'pool-forecast').label, '按此速度，账号池可用到 13:00；14:00 恢复');
    // No burn, no forecast.
    assert.equal(find(menu(state({ accounts: [home] })), 'pool-forecast'), undefined);
  });

  it('marks an account that needs sign-in and sends its click to the Accounts popover', () => {
    const items = menu(state({ accounts: [account('a', { health: { state: 'needs-login' } })] }));
    const item = accountItems(items)[0]!;
    assert.equal(item.label, 'a — ChatGPT Plus · needs sign-in');
    assert.deepEqual(item.action, { kind: 'open', view: 'accounts' });
  });

  it('shows the proxy off with an action that turns it on', () => {
    const s = state({ accounts: [account('a')] });
    const proxy = get(menu(s), 'proxy');
    assert.equal(proxy.checked, false);
    assert.equal(proxy.label, 'Proxy off — Codex goes direct');
    assert.deepEqual(proxy.action, { kind: 'proxy-on', mode: 'base-url' });
    assert.equal(get(menu(s), 'proxy-mode-base-url').checked, false);
    assert.equal(trayLook(s, translator('en')).icon, 'off');
    assert.match(trayLook(s, translator('en')).tooltip, /Proxy off/);
  });

  it('shows the proxy on with its mode, an action that turns it off, and the on icon', () => {
    const s = state({ accounts: [account('a')], settings: { active: 'id-a', failover: true, notifications: true }, proxy: { mode: 'provider' } });
    const items = menu(s);
    const proxy = get(items, 'proxy');
    assert.equal(proxy.checked, true);
    assert.equal(proxy.label, 'Proxy on · provider');
    assert.deepEqual(proxy.action, { kind: 'proxy-off' });
    assert.equal(get(items, 'proxy-mode-provider').checked, true);
    assert.equal(get(items, 'proxy-mode-base-url').checked, false);
    assert.deepEqual(get(items, 'proxy-mode-base-url').action, { kind: 'proxy-on', mode: 'base-url' });
    const look = trayLook(s, translator('en'));
    assert.equal(look.icon, 'on');
    assert.match(look.tooltip, /Active: a\nProxy on \(provider\)/);
  });

  it('shows the exhausted icon and the first reset when every enabled account is out', () => {
    const accounts = [
      account('a', { health: { state: 'cooling', until: WED_14 } }),
      account('b', { health: { state: 'cooling', until: AT_14 } }),
      account('c', { health: { state: 'needs-login' } }),
      account('d', { enabled: false }),
    ];
    const s = state({ accounts, proxy: { mode: 'base-url' } });
    assert.equal(allExhausted(s), true);
    const look = trayLook(s, translator('en'));
    assert.equal(look.icon, 'exhausted');
    assert.match(look.tooltip, /b is back 14:00/);
    // One usable account (even a failing one, tried as a last resort) is not exhaustion.
    const degraded = account('e', { health: { state: 'degraded', until: AT_14 } });
    assert.equal(trayLook({ ...s, accounts: [...accounts, degraded] }, translator('en')).icon, 'on');
    // With the proxy off Codex is not using AI Gate, so the icon says off.
    assert.equal(trayLook({ ...s, proxy: undefined }, translator('en')).icon, 'off');
  });

  it('lists recent backups in the Restore submenu, restoring through the Backups popover', () => {
    const backups = Array.from({ length: 12 }, (_, i) => ({ id: `b${i}`, at: AT_14 - i * 60_000, reason: i === 0 ? 'manual' : 'proxy-on', note: i === 1 ? 'before upgrade' : undefined }));
    const restore = get(menu(state({ backups })), 'restore');
    const entries = restore.submenu!.filter((i) => i.id.startsWith('restore-b'));
    assert.equal(entries.length, 8);
    assert.equal(entries[0]!.label, '14:00 · manual');
    assert.equal(entries[1]!.label, '13:59 · before upgrade');
    assert.equal(entries[2]!.label, '13:58 · before proxy on');
    assert.deepEqual(entries[0]!.action, { kind: 'open', view: 'backups', query: { restore: 'b0' } });
    const empty = get(menu(state()), 'restore');
    assert.deepEqual(empty.submenu!.map((i) => [i.id, i.enabled]), [['no-backups', false]]);
  });

  it('turns the toggles into the opposite action', () => {
    const items = menu(state({ settings: { failover: true, notifications: false }, launchAtLogin: true }));
    assert.deepEqual(get(items, 'failover').action, { kind: 'set-failover', on: false });
    assert.deepEqual(get(items, 'notifications').action, { kind: 'set-notifications', on: true });
    assert.equal(get(items, 'notifications').checked, false);
    assert.deepEqual(get(items, 'launch-at-login').action, { kind: 'launch-at-login', on: false });
    assert.deepEqual(get(items, 'backup-now').action, { kind: 'backup-now' });
    for (const view of ['accounts', 'stats', 'mcp', 'backups']) assert.deepEqual(get(items, `open-${view}`).action, { kind: 'open', view });
    assert.deepEqual(items.at(-1)!.action, { kind: 'quit' });
    // Where the OS has no login items (Linux), the item is left out.
    assert.equal(find(menu(state({ launchAtLogin: undefined })), 'launch-at-login'), undefined);
  });

  it('offers the languages with a check on the chosen one, and speaks Chinese when asked', () => {
    const accounts = [account('a', { health: { state: 'cooling', until: AT_14 } })];
    const items = menu(state({ language: 'zh-CN', locale: 'zh-CN', accounts }));
    assert.deepEqual(get(items, 'language').submenu!.map((i) => [i.id, i.checked]), [['language-system', false], ['language-en', false], ['language-zh-CN', true]]);
    assert.equal(items.at(-1)!.label, '退出 AI Gate');
    assert.equal(accountItems(items)[0]!.label, 'a — ChatGPT Plus · 冷却中 · 14:00 重置');
  });

  it('says when the gateway is not running and keeps every id unique', () => {
    const items = menu(state({ gatewayError: 'port 6789 is in use', accounts: [account('a'), account('b')], backups: [{ id: 'x', at: NOW, reason: 'manual' }] }));
    assert.equal(items[0]!.label, 'Gateway not running: port 6789 is in use');
    assert.equal(items[0]!.enabled, false);
    const ids = allIds(items);
    assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids.join(', ')}`);
  });
});

/**
 * The tray menu as a pure function of state: a plain tree that `tray-menu.ts`
 * turns into an Electron Menu, and that tests read without Electron.
 */
import type { LanguagePref, Locale, Translate } from '../i18n/i18n.js';
import { LOCALES, formatResetTime } from '../i18n/i18n.js';
import { backupReason, currentState, forecastText, isUsable, kindLabel, poolText, statusText, type LabelledAccount } from '../i18n/labels.js';
import { accountForecast } from '../state/forecast.js';
import { poolForecast } from '../state/pool-forecast.js';
import type { QuotaSample } from '../state/schema.js';

export type ProxyMode = 'base-url' | 'provider' | 'third-party';
export type View = 'accounts' | 'stats' | 'mcp' | 'backups';
export type TrayIconState = 'off' | 'on' | 'exhausted';

export interface TrayAccount extends LabelledAccount {
  id: string;
  email?: string;
  /** For the forecast ("runs out ~15:40 at this pace"). */
  quotaSamples?: readonly QuotaSample[];
}

export interface TrayBackup {
  id: string;
  /** ms since epoch */
  at: number;
  reason: string;
  note?: string;
}

export interface TrayState {
  now: number;
  locale: Locale;
  language: LanguagePref;
  /** In the user's order. */
  accounts: readonly TrayAccount[];
  settings: { active?: string; failover: boolean; notifications: boolean };
  /** `undefined` while Codex is not pointed at the gateway. */
  proxy?: { mode: ProxyMode };
  /** Newest first. */
  backups: readonly TrayBackup[];
  /** `undefined` where the OS has no login items to set (Linux): the item is left out. */
  launchAtLogin?: boolean;
  /** Why the gateway is not running (port taken…); `undefined` when it runs. */
  gatewayError?: string;
}

export type TrayAction =
  | { kind: 'proxy-on'; mode: ProxyMode }
  | { kind: 'proxy-off' }
  | { kind: 'use-account'; name: string }
  | { kind: 'set-failover'; on: boolean }
  | { kind: 'set-notifications'; on: boolean }
  | { kind: 'backup-now' }
  | { kind: 'open'; view: View; query?: Record<string, string> }
  | { kind: 'language'; language: LanguagePref }
  | { kind: 'launch-at-login'; on: boolean }
  | { kind: 'quit' };

export interface MenuItem {
  id: string;
  type: 'normal' | 'separator' | 'checkbox' | 'submenu';
  label?: string;
  checked?: boolean;
  enabled?: boolean;
  toolTip?: string;
  submenu?: MenuItem[];
  action?: TrayAction;
}

const RESTORE_ITEMS = 8;
const VIEWS: View[] = ['accounts', 'stats', 'mcp', 'backups'];
const MODES = ['base-url', 'provider'] as const;

const separator = (): MenuItem => ({ id: 'sep', type: 'separator' });

export function buildMenu(state: TrayState, t: Translate): MenuItem[] {
  return numberSeparators([
    ...gatewayItems(state, t),
    ...proxyItems(state, t),
    separator(),
    ...accountItems(state, t),
    separator(),
    { id: 'failover', type: 'checkbox', label: t('menu.failover'), checked: state.settings.failover, action: { kind: 'set-failover', on: !state.settings.failover } },
    separator(),
    { id: 'backup-now', type: 'normal', label: t('menu.backupNow'), action: { kind: 'backup-now' } },
    restoreItem(state, t),
    separator(),
    ...VIEWS.map((view): MenuItem => ({ id: `open-${view}`, type: 'normal', label: t(`menu.open.${view}`), action: { kind: 'open', view } })),
    separator(),
    languageItem(state, t),
    { id: 'notifications', type: 'checkbox', label: t('menu.notifications'), checked: state.settings.notifications, action: { kind: 'set-notifications', on: !state.settings.notifications } },
    ...(state.launchAtLogin === undefined
      ? []
      : [{ id: 'launch-at-login', type: 'checkbox', label: t('menu.launchAtLogin'), checked: state.launchAtLogin, action: { kind: 'launch-at-login', on: !state.launchAtLogin } } satisfies MenuItem]),
    separator(),
    { id: 'quit', type: 'normal', label: t('menu.quit'), action: { kind: 'quit' } },
  ]);
}

/** Separators get ids by position, so every id in the tree is unique. */
function numberSeparators(items: MenuItem[], prefix = 'sep'): MenuItem[] {
  return items.map((item, i) => {
    if (item.type === 'separator') return { ...item, id: `${prefix}-${i}` };
    return item.submenu ? { ...item, submenu: numberSeparators(item.submenu, `${item.id}-sep`) } : item;
  });
}

function gatewayItems(state: TrayState, t: Translate): MenuItem[] {
  if (state.gatewayError === undefined) return [];
  return [{ id: 'gateway-error', type: 'normal', label: t('menu.gatewayError', { error: state.gatewayError }), enabled: false }, separator()];
}

function proxyItems(state: TrayState, t: Translate): MenuItem[] {
  const on = state.proxy !== undefined;
  const toggle: MenuItem = {
    id: 'proxy',
    type: 'checkbox',
    label: on ? t('menu.proxyOn', { mode: t(`mode.${state.proxy!.mode}`) }) : t('menu.proxyOff'),
    checked: on,
    enabled: state.gatewayError === undefined || on,
    action: on ? { kind: 'proxy-off' } : { kind: 'proxy-on', mode: 'base-url' },
  };
  const modes: MenuItem = {
    id: 'proxy-mode',
    type: 'submenu',
    label: t('menu.proxyMode'),
    submenu: MODES.map((mode) => ({
      id: `proxy-mode-${mode}`,
      type: 'checkbox',
      label: t(`mode.${mode}.long`),
      checked: state.proxy?.mode === mode,
      action: { kind: 'proxy-on', mode },
    })),
  };
  return [toggle, modes];
}

function accountItems(state: TrayState, t: Translate): MenuItem[] {
  if (!state.accounts.length) {
    return [{ id: 'no-accounts', type: 'normal', label: t('menu.noAccounts'), action: { kind: 'open', view: 'accounts' } }];
  }
  const header: MenuItem = { id: 'accounts-header', type: 'normal', label: t('menu.accountsHeader'), enabled: false };
  const pool = poolText(poolForecast(state.accounts, state.now), state.now, state.locale, t);
  const poolItem: MenuItem[] = pool ? [{ id: 'pool-forecast', type: 'normal', label: pool, enabled: false }] : [];
  return [header, ...state.accounts.map((account) => accountItem(account, state, t)), ...poolItem];
}

function accountItem(account: TrayAccount, state: TrayState, t: Translate): MenuItem {
  const forecast = currentState(account, state.now) === 'ok' ? forecastText(accountForecast(account, state.now), state.now, state.locale, t) : '';
  const status = [statusText(account, state.now, state.locale, t), forecast].filter(Boolean).join(' · ');
  // An account that needs sign-in cannot be switched to usefully; the click opens Accounts to sign in.
  const action: TrayAction =
    currentState(account, state.now) === 'needs-login' ? { kind: 'open', view: 'accounts' } : { kind: 'use-account', name: account.name };
  return {
    id: `account-${account.id}`,
    type: 'checkbox',
    label: t('menu.account', { name: account.name, kind: kindLabel(account, t), status }),
    checked: state.settings.active === account.id,
    toolTip: account.email,
    action,
  };
}

function restoreItem(state: TrayState, t: Translate): MenuItem {
  const recent = state.backups.slice(0, RESTORE_ITEMS);
  if (!recent.length) return { id: 'restore', type: 'submenu', label: t('menu.restore'), submenu: [{ id: 'no-backups', type: 'normal', label: t('menu.noBackups'), enabled: false }] };
  // Restoring goes through the Backups popover, which shows what will change and asks first.
  const items = recent.map((b): MenuItem => ({
    id: `restore-${b.id}`,
    type: 'normal',
    label: t('menu.backup', { time: formatResetTime(b.at, state.now, state.locale), reason: backupReason(b, t) }),
    action: { kind: 'open', view: 'backups', query: { restore: b.id } },
  }));
  return { id: 'restore', type: 'submenu', label: t('menu.restore'), submenu: [...items, separator(), { id: 'restore-all', type: 'normal', label: t('menu.allBackups'), action: { kind: 'open', view: 'backups' } }] };
}

function languageItem(state: TrayState, t: Translate): MenuItem {
  const choices: LanguagePref[] = ['system', ...LOCALES];
  return {
    id: 'language',
    type: 'submenu',
    label: t('menu.language'),
    submenu: choices.map((language) => ({
      id: `language-${language}`,
      type: 'checkbox',
      label: t(`language.${language}`),
      checked: state.language === language,
      action: { kind: 'language', language },
    })),
  };
}

/** Every enabled account is cooling down or needs sign-in: Codex's next request has nowhere to go. */
export function allExhausted(state: Pick<TrayState, 'accounts' | 'now'>): boolean {
  const enabled = state.accounts.filter((a) => a.enabled);
  return enabled.length > 0 && !enabled.some((a) => isUsable(a, state.now));
}

/** When the first exhausted account comes back, and which one. */
export function earliestReset(state: Pick<TrayState, 'accounts' | 'now'>): { name: string; at: number } | undefined {
  return state.accounts
    .filter((a) => a.enabled && currentState(a, state.now) === 'cooling' && a.health.until)
    .map((a) => ({ name: a.name, at: a.health.until! }))
    .sort((a, b) => a.at - b.at)[0];
}

/** The icon and the hover text: proxy off wins (Codex is not using us), then exhaustion. */
export function trayLook(state: TrayState, t: Translate): { icon: TrayIconState; tooltip: string } {
  const active = state.accounts.find((a) => a.id === state.settings.active);
  const icon: TrayIconState = !state.proxy ? 'off' : allExhausted(state) ? 'exhausted' : 'on';
  const proxy = state.proxy ? t('tooltip.proxyOn', { mode: t(`mode.${state.proxy.mode}`) }) : t('tooltip.proxyOff');
  const lines = [t('tooltip.account', { name: active?.name ?? t('tooltip.noAccount') }), proxy];
  if (icon === 'exhausted') {
    const first = earliestReset(state);
    lines.push(first ? t('tooltip.exhaustedUntil', { name: first.name, time: formatResetTime(first.at, state.now, state.locale) }) : t('tooltip.exhausted'));
  }
  if (state.gatewayError !== undefined) lines.push(t('menu.gatewayError', { error: state.gatewayError }));
  return { icon, tooltip: `AI Gate\n${lines.join('\n')}` };
}

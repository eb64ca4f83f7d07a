/**
 * How an account's kind, health and quota, and a backup's reason, read in the
 * tray menu, notifications and the popovers, in the user's language. Structural types only, so
 * the browser bundle can use it on the admin API's JSON as it is.
 */
import { formatDuration, formatResetTime, type Locale, type MessageKey, type Translate } from './i18n.js';

export interface LabelledWindow {
  usedPercent: number;
  resetsAt?: number;
}

export interface LabelledAccount {
  name: string;
  kind: 'official' | 'third-party';
  enabled: boolean;
  plan?: string;
  baseUrl?: string;
  health: { state: 'ok' | 'cooling' | 'degraded' | 'needs-login'; until?: number };
  quota?: { primary?: LabelledWindow; secondary?: LabelledWindow; updatedAt?: number };
}

/** The state that counts now: a cooldown or backoff whose time has passed is ok again. */
export function currentState(account: LabelledAccount, now: number): LabelledAccount['health']['state'] | 'disabled' {
  if (!account.enabled) return 'disabled';
  const { state, until } = account.health;
  if ((state === 'cooling' || state === 'degraded') && (until ?? 0) <= now) return 'ok';
  return state;
}

/** Usable right now for a new request (degraded accounts are a last resort, but still usable). */
export function isUsable(account: LabelledAccount, now: number): boolean {
  const state = currentState(account, now);
  return state === 'ok' || state === 'degraded';
}

/** "ChatGPT Plus", "API · api.example.com" */
export function kindLabel(account: LabelledAccount, t: Translate): string {
  if (account.kind === 'official') return account.plan ? t('kind.officialPlan', { plan: capitalize(account.plan) }) : t('kind.official');
  let host = '';
  try {
    host = account.baseUrl ? new URL(account.baseUrl).host : '';
  } catch {
    // a stored URL that no longer parses still gets a label
  }
  return host ? t('kind.thirdPartyHost', { host }) : t('kind.thirdParty');
}

/** "5h 42% · week 81%", or "" when nothing is known yet. */
export function quotaText(account: LabelledAccount, t: Translate): string {
  const parts: string[] = [];
  const { primary, secondary } = account.quota ?? {};
  if (primary) parts.push(t('quota.fiveHour', { p: Math.round(primary.usedPercent) }));
  if (secondary) parts.push(t('quota.week', { p: Math.round(secondary.usedPercent) }));
  return parts.join(' · ');
}

/** "5h 42% · week 81%", "cooling down · resets 14:00", "needs sign-in", "disabled", "ready". */
export function statusText(account: LabelledAccount, now: number, locale: Locale, t: Translate): string {
  const state = currentState(account, now);
  switch (state) {
    case 'disabled':
      return t('health.disabled');
    case 'needs-login':
      return t('health.needsLogin');
    case 'cooling':
      return t('health.cooling', { time: formatResetTime(account.health.until!, now, locale) });
    case 'degraded':
      return t('health.degraded', { duration: formatDuration(account.health.until! - now, t) });
    case 'ok':
      return quotaText(account, t) || t('health.ready');
  }
}

/** The forecasts as the admin API and `forecast.ts` give them; only what the labels read. */
export interface LabelledForecast {
  state: string;
  runsOutAt?: number;
}
export interface LabelledPool {
  state: string;
  lastsUntil?: number;
  backAt?: number;
}

/** A forecast is a guess to the minute at best: shown to five minutes. */
const roughly = (at: number) => Math.round(at / 300_000) * 300_000;

/** "runs out ~15:40 at this pace", or "" when it does not run out before its reset (or there is no pace yet). */
export function forecastText(f: LabelledForecast | undefined, now: number, locale: Locale, t: Translate): string {
  if (f?.state !== 'runs-out' || f.runsOutAt === undefined) return '';
  return t('forecast.runsOut', { time: formatResetTime(roughly(f.runsOutAt), now, locale) });
}

/** "Pool lasts until Tue 09:00 at this pace" (", then back …"), "Pool keeps up at this pace", or "". */
export function poolText(p: LabelledPool | undefined, now: number, locale: Locale, t: Translate): string {
  if (p?.state === 'keeps-up') return t('forecast.poolKeepsUp');
  if (p?.state !== 'runs-out' || p.lastsUntil === undefined) return '';
  const time = formatResetTime(roughly(p.lastsUntil), now, locale);
  return p.backAt === undefined ? t('forecast.pool', { time }) : t('forecast.poolBack', { time, back: formatResetTime(p.backAt, now, locale) });
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "manual", "before proxy on" — or the user's own note. */
export function backupReason(backup: { reason: string; note?: string }, t: Translate): string {
  if (backup.note) return backup.note;
  const key = `backup.reason.${backup.reason}` as MessageKey;
  const text = t(key);
  return text === key ? backup.reason : text;
}

/**
 * One catalogue per language, shared by the tray menu, notifications and the
 * popovers (esbuild inlines the JSON into each bundle). Keys are flat and
 * dotted; `{name}` placeholders are filled by `translator`.
 */
import en from './en.json' with { type: 'json' };
import zhCN from './zh-CN.json' with { type: 'json' };

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
/** What the user picked in the menu: a fixed language, or whatever the OS says. */
export type LanguagePref = Locale | 'system';
export type MessageKey = keyof typeof en;
export type Params = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: Params) => string;

export const catalogues: Record<Locale, Record<string, string>> = { en, 'zh-CN': zhCN };

/** The first supported language in the OS's (or browser's) preference list; any Chinese reads Simplified. */
export function matchLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower === 'zh' || lower.startsWith('zh-') || lower.startsWith('zh_')) return 'zh-CN';
    if (lower === 'en' || lower.startsWith('en-') || lower.startsWith('en_')) return 'en';
  }
  return 'en';
}

export function resolveLocale(pref: LanguagePref | undefined, system: readonly string[]): Locale {
  return pref && pref !== 'system' && LOCALES.includes(pref) ? pref : matchLocale(system);
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** `t('menu.quit')`, `t('notify.back.title', { name })`; a key missing from a catalogue falls back to English. */
export function translator(locale: Locale): Translate {
  const messages = catalogues[locale];
  return (key, params) => {
    const text = messages[key] ?? en[key] ?? key;
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}

/** "14:00" today, "Tue 14:00" / "周二 14:00" within a week, else "Nov 30 14:00" / "11月30日 14:00" — local time. */
export function formatResetTime(at: number, now: number, locale: Locale): string {
  const d = new Date(at);
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  if (new Date(now).toDateString() === d.toDateString()) return time;
  if (at - now < 6 * 86_400_000 && at > now) return `${new Intl.DateTimeFormat(locale, { weekday: 'short' }).format(d)} ${time}`;
  return `${new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' }).format(d)} ${time}`;
}

/** "2h13m" / "2小时13分" */
export function formatDuration(ms: number, t: Translate): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('duration.seconds', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('duration.minutes', { m });
  const h = Math.floor(m / 60);
  if (h < 48) return t('duration.hours', { h, m: String(m % 60).padStart(2, '0') });
  return t('duration.days', { d: Math.floor(h / 24), h: h % 24 });
}

/** "$12.34" / "US$12.34"; under a cent, two significant digits ("$0.0042"), so a small cost never reads as free. */
export function formatUsd(usd: number, locale: Locale): string {
  const small = usd > 0 && usd < 0.01;
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD', ...(small ? { maximumSignificantDigits: 2 } : {}) }).format(usd);
}

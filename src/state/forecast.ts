/**
 * When an account, and the whole pool, runs out of quota at the current pace.
 * Pure functions of the accounts (their quota windows and `quotaSamples`) and
 * `now`; the pace is the change of used percent over the recent samples.
 */
import type { QuotaSample } from './schema.js';

export type WindowName = 'primary' | 'secondary';
const WINDOWS: WindowName[] = ['primary', 'secondary'];

export interface ForecastWindow {
  usedPercent: number;
  windowMinutes?: number;
  resetsAt?: number;
}

/** Structural, so the store's records and the tray's copies both fit. */
export interface ForecastAccount {
  name: string;
  enabled: boolean;
  health: { state: string; until?: number };
  quota?: { primary?: ForecastWindow; secondary?: ForecastWindow; updatedAt?: number };
  quotaSamples?: readonly QuotaSample[];
}

export interface AccountForecast {
  /** `runs-out`: before its window resets; `lasts`: the window resets first; `idle`: no recent burn to go by; `unknown`: no quota known. */
  state: 'runs-out' | 'lasts' | 'idle' | 'unknown';
  runsOutAt?: number;
  /** The window that runs out, and when it resets (the account is back then). */
  window?: WindowName;
  backAt?: number;
  /** Percent of the window per hour, where a burn was measured. */
  perHour?: Partial<Record<WindowName, number>>;
}

/** Without a request for this long there is no "current pace". */
const IDLE_MS = 30 * 60_000;
/** A pace needs samples at least this far apart. */
const MIN_SPAN_MS = 10 * 60_000;
/** How far back the pace looks: a 5-hour window moves quickly, a weekly one slowly. */
const LOOKBACK_MS: Record<WindowName, number> = { primary: 2 * 3_600_000, secondary: 8 * 3_600_000 };
const HOUR = 3_600_000;

/** Percent per ms over the recent samples of one window; 0 when idle or too little to tell. */
export function burnRate(samples: readonly QuotaSample[] | undefined, which: WindowName, now: number): number {
  const list = (samples ?? []).filter((s) => s[which] !== undefined);
  const last = list.at(-1);
  if (!last || now - last.at > IDLE_MS) return 0;
  let first = last;
  // Walk back while the percent only falls going back: a rise going back is a window reset in between.
  for (let i = list.length - 2; i >= 0; i--) {
    const s = list[i]!;
    if (s.at < last.at - LOOKBACK_MS[which] || s[which]! > first[which]!) break;
    first = s;
  }
  const span = last.at - first.at;
  if (span < MIN_SPAN_MS) return 0;
  return Math.max(0, (last[which]! - first[which]!) / span);
}

export function accountForecast(account: ForecastAccount, now: number): AccountForecast {
  const quota = account.quota;
  if (!quota || (!quota.primary && !quota.secondary)) return { state: 'unknown' };
  const observed = quota.updatedAt ?? now;
  const perHour: AccountForecast['perHour'] = {};
  let best: AccountForecast | undefined;
  let burning = false;
  for (const which of WINDOWS) {
    const w = quota[which];
    const rate = w ? burnRate(account.quotaSamples, which, now) : 0;
    if (!w || rate <= 0) continue;
    burning = true;
    perHour[which] = rate * HOUR;
    const resetsAt = w.resetsAt && w.resetsAt > now ? w.resetsAt : undefined;
    const runsOutAt = Math.max(now, observed + Math.max(0, 100 - w.usedPercent) / rate);
    if (resetsAt !== undefined && runsOutAt >= resetsAt) continue;
    if (!best || runsOutAt < best.runsOutAt!) best = { state: 'runs-out', runsOutAt, window: which, backAt: resetsAt };
  }
  if (best) return { ...best, perHour };
  return burning ? { state: 'lasts', perHour } : { state: 'idle' };
}

/**
 * How long the whole pool lasts at the current pace. The pace is what every
 * account burns together now (percent of a window per hour); the simulation
 * hands it to one usable account after another in the user's order, as
 * failover would, lets windows reset on their schedule, and stops at the first
 * moment no account is left. It assumes the accounts are alike in size, which
 * is what "at this pace" can honestly mean across accounts.
 */
import { burnRate, type ForecastAccount, type WindowName } from './forecast.js';

export interface PoolForecast {
  /** `runs-out` at `lastsUntil`; `keeps-up`: not within `HORIZON_MS`; `out`: nothing usable now; `idle`: no burn; `unbounded`: an account with no known limit. */
  state: 'runs-out' | 'keeps-up' | 'out' | 'idle' | 'unbounded' | 'empty';
  lastsUntil?: number;
  /** When an account is usable again after that. */
  backAt?: number;
}

const HORIZON_MS = 8 * 86_400_000;
const DEFAULT_MINUTES: Record<WindowName, number> = { primary: 300, secondary: 10_080 };
const MAX_STEPS = 2_000;

interface SimWindow {
  which: WindowName;
  used: number;
  resetsAt: number;
  length: number;
}

interface SimAccount {
  windows: SimWindow[];
  blockedUntil: number;
}

/** The account as of `now`: a window that burns (at `rates`, %/ms) has gone on burning since it was last read. */
function simAccount(a: ForecastAccount, rates: Record<WindowName, number>, now: number): SimAccount {
  const windows: SimWindow[] = [];
  const since = Math.max(0, now - (a.quota?.updatedAt ?? now));
  for (const which of ['primary', 'secondary'] as const) {
    const w = a.quota?.[which];
    if (!w) continue;
    const length = (w.windowMinutes || DEFAULT_MINUTES[which]) * 60_000;
    const used = Math.min(100, w.usedPercent + rates[which] * since);
    const sim = { which, used, resetsAt: w.resetsAt ?? Infinity, length };
    while (sim.resetsAt <= now) Object.assign(sim, { used: 0, resetsAt: sim.resetsAt + length });
    windows.push(sim);
  }
  const cooling = a.health.state === 'cooling' && (a.health.until ?? 0) > now;
  return { windows, blockedUntil: cooling ? a.health.until! : -Infinity };
}

const usable = (a: SimAccount, t: number) => a.blockedUntil <= t && a.windows.every((w) => w.used < 100);
/** When a full or cooling account is usable again. */
const backAt = (a: SimAccount) => Math.max(a.blockedUntil, ...a.windows.filter((w) => w.used >= 100).map((w) => w.resetsAt));

export function poolForecast(accounts: readonly ForecastAccount[], now: number): PoolForecast {
  const members = accounts.filter((a) => a.enabled && a.health.state !== 'needs-login');
  if (!members.length) return { state: 'empty' };
  if (members.some((a) => !a.quota?.primary && !a.quota?.secondary)) return { state: 'unbounded' };
  const rates = members.map((a) => ({ primary: burnRate(a.quotaSamples, 'primary', now), secondary: burnRate(a.quotaSamples, 'secondary', now) }));
  const pace: Record<WindowName, number> = { primary: 0, secondary: 0 };
  for (const r of rates) for (const which of ['primary', 'secondary'] as const) pace[which] += r[which];
  const sims = members.map((a, i) => simAccount(a, rates[i]!, now));
  const firstBack = () => {
    const at = Math.min(...sims.map(backAt));
    return Number.isFinite(at) ? at : undefined;
  };
  if (!sims.some((s) => usable(s, now))) return { state: 'out', backAt: firstBack() };
  if (pace.primary <= 0 && pace.secondary <= 0) return { state: 'idle' };

  const end = now + HORIZON_MS;
  let t = now;
  for (let step = 0; step < MAX_STEPS && t < end; step++) {
    const serving = sims.find((s) => usable(s, t));
    if (!serving) return { state: 'runs-out', lastsUntil: t, backAt: firstBack() };
    // The next moment anything changes: the serving account fills a window, a window resets, a cooldown ends.
    let next = end;
    for (const w of serving.windows) if (pace[w.which] > 0) next = Math.min(next, t + (100 - w.used) / pace[w.which]);
    for (const s of sims) {
      for (const w of s.windows) next = Math.min(next, w.resetsAt);
      if (s.blockedUntil > t) next = Math.min(next, s.blockedUntil);
    }
    next = Math.max(next, t + 1);
    for (const w of serving.windows) w.used = Math.min(100, w.used + pace[w.which] * (next - t));
    t = next;
    for (const s of sims) {
      for (const w of s.windows) {
        // A window within a hair of full is full: the step above ended exactly at its exhaustion.
        if (w.used > 100 - 1e-9) w.used = 100;
        while (w.resetsAt <= t) Object.assign(w, { used: 0, resetsAt: w.resetsAt + w.length });
      }
    }
  }
  return { state: 'keeps-up' };
}

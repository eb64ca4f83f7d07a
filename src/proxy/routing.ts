import type { AccountRecord, StoreData } from '../state/schema.js';
import type { AccountHealth } from './health.js';

export interface Candidates {
  /** Accounts to try, in order: healthy ones first, then degraded ones soonest-recovering first. */
  accounts: AccountRecord[];
  /** The earliest time a cooling account is usable again, for the "come back at" answer. */
  earliestReset?: number;
}

/**
 * The order in which a request tries accounts: the accounts the request is
 * bound to while they are healthy (its turn's, its parent thread's, its
 * conversation's: their prompt cache is warm and their state readable there),
 * then, with `routing: order` (the default), the preferred account and the
 * user's order, or with `routing: soonest-reset` the account whose quota
 * window resets first, so quota that would expire unused is spent first.
 * Accounts over the quota threshold go last among the healthy for new
 * conversations. Disabled and needs-sign-in accounts are never tried; cooling
 * ones only tell when to come back.
 */
export function candidates(
  data: Readonly<StoreData>,
  health: AccountHealth,
  options: { sticky?: string[]; pinned?: AccountRecord; failover: boolean },
): Candidates {
  const pool = options.pinned ? [options.pinned] : data.accounts;
  const healthy: AccountRecord[] = [];
  const degraded: { account: AccountRecord; until: number }[] = [];
  let earliestReset: number | undefined;
  for (const account of pool) {
    if (!account.enabled) continue;
    const h = health.current(account);
    if (h.state === 'ok') healthy.push(account);
    else if (h.state === 'degraded') degraded.push({ account, until: h.until ?? 0 });
    else if (h.state === 'cooling' && h.until) earliestReset = Math.min(earliestReset ?? Infinity, h.until);
  }
  const sticky = options.sticky ?? [];
  const threshold = data.settings.quotaThreshold;
  const soonest = data.settings.routing === 'soonest-reset';
  const now = health.now();
  const rank = (a: AccountRecord) => {
    const bound = sticky.indexOf(a.id);
    if (bound >= 0) return bound - sticky.length; // before every other rank, in the order given
    if (threshold !== undefined && overThreshold(a, threshold)) return 3;
    if (soonest) return 2;
    return a.id === data.settings.active ? 1 : 2;
  };
  const resets = new Map(soonest ? healthy.map((a) => [a.id, nextReset(a, now)]) : []);
  // Array.prototype.sort is stable: equal ranks (and equal resets) keep the user's order.
  healthy.sort((a, b) => rank(a) - rank(b) || (soonest ? resets.get(a.id)! - resets.get(b.id)! : 0));
  degraded.sort((a, b) => a.until - b.until);
  const ordered = [...healthy, ...degraded.map((d) => d.account)];
  return { accounts: options.failover ? ordered : ordered.slice(0, 1), earliestReset };
}

/** The earliest future reset among the account's quota windows; accounts with none known come after those with one. */
function nextReset(account: AccountRecord, now: number): number {
  const q = account.quota;
  const times = [q?.primary?.resetsAt, q?.secondary?.resetsAt].filter((t): t is number => t !== undefined && t > now);
  return times.length ? Math.min(...times) : Number.MAX_SAFE_INTEGER;
}

function overThreshold(account: AccountRecord, threshold: number): boolean {
  const q = account.quota;
  return !!q && Math.max(q.primary?.usedPercent ?? 0, q.secondary?.usedPercent ?? 0) >= threshold;
}

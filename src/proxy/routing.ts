import type { AccountRecord, StoreData } from '../state/schema.js';
import type { AccountHealth } from './health.js';
import type { Conversation } from '../state/conversations.js';

export interface Candidates {
  /** Accounts to try, in order: healthy ones first, then degraded ones soonest-recovering first. */
  accounts: AccountRecord[];
  /** The earliest time a cooling account is usable again, for the "come back at" answer. */
  earliestReset?: number;
}

/**
 * The order in which a request tries accounts: the conversation's sticky
 * account while it is healthy (its prompt cache is warm there), else the
 * preferred account, else the user's order. Accounts over the quota threshold
 * go last among the healthy for new conversations. Disabled and needs-sign-in
 * accounts are never tried; cooling ones only tell when to come back.
 */
export function candidates(
  data: Readonly<StoreData>,
  health: AccountHealth,
  options: { conversation?: Conversation; pinned?: AccountRecord; failover: boolean },
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
  const sticky = options.conversation?.last;
  const threshold = data.settings.quotaThreshold;
  const rank = (a: AccountRecord) => {
    if (a.id === sticky) return 0;
    if (threshold !== undefined && overThreshold(a, threshold)) return 3;
    return a.id === data.settings.active ? 1 : 2;
  };
  // Array.prototype.sort is stable: equal ranks keep the user's order.
  healthy.sort((a, b) => rank(a) - rank(b));
  degraded.sort((a, b) => a.until - b.until);
  const ordered = [...healthy, ...degraded.map((d) => d.account)];
  return { accounts: options.failover ? ordered : ordered.slice(0, 1), earliestReset };
}

function overThreshold(account: AccountRecord, threshold: number): boolean {
  const q = account.quota;
  return !!q && Math.max(q.primary?.usedPercent ?? 0, q.secondary?.usedPercent ?? 0) >= threshold;
}

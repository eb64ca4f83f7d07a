import type { AccountRecord, Health, Quota } from './schema.js';

/** The health an account has at `now`: a cooldown or backoff that has passed reads as ok. */
export function effectiveHealth(health: Health, now: number): Health {
  if ((health.state === 'cooling' || health.state === 'degraded') && (health.until ?? 0) <= now) {
    // A degraded account keeps its failure count, so failing again backs off longer.
    return { state: 'ok', failures: health.state === 'degraded' ? health.failures : 0 };
  }
  return health;
}

/** "2h13m", "45m", "30s" */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** "14:00" today, "Tue 14:00" within a week, else "Nov 30 14:00" — in local time. */
export function formatResetTime(at: number, now: number): string {
  const d = new Date(at);
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  if (new Date(now).toDateString() === d.toDateString()) return time;
  if (at - now < 6 * 86_400_000) return `${d.toLocaleDateString('en-US', { weekday: 'short' })} ${time}`;
  return `${d.toLocaleDateString('en-US', { month: 'short', day: 'numeric' })} ${time}`;
}

/** "ok", "cooling down · resets 14:00 (in 2h13m)", "needs sign-in", "disabled" */
export function healthLabel(account: AccountRecord, now: number): string {
  if (!account.enabled) return 'disabled';
  const h = effectiveHealth(account.health, now);
  switch (h.state) {
    case 'ok':
      return 'ok';
    case 'needs-login':
      return 'needs sign-in';
    case 'cooling':
      return `cooling down · resets ${formatResetTime(h.until!, now)} (in ${formatDuration(h.until! - now)})`;
    case 'degraded':
      return `degraded · retry in ${formatDuration(h.until! - now)}`;
  }
}

/** "5h 42% · week 81% · resets Tue 14:00", or "" when nothing is known. */
export function quotaLabel(quota: Quota | undefined, now: number): string {
  if (!quota) return '';
  const parts: string[] = [];
  if (quota.primary) parts.push(`5h ${Math.round(quota.primary.usedPercent)}%`);
  if (quota.secondary) parts.push(`week ${Math.round(quota.secondary.usedPercent)}%`);
  const fullest = [quota.primary, quota.secondary]
    .filter((w) => w?.resetsAt && w.resetsAt > now)
    .sort((a, b) => b!.usedPercent - a!.usedPercent)[0];
  if (fullest?.resetsAt) parts.push(`resets ${formatResetTime(fullest.resetsAt, now)}`);
  return parts.join(' · ');
}

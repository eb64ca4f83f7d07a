import { debuglog } from 'node:util';
import type { AccountRecord, Health, HealthState, Quota, QuotaSample } from '../state/schema.js';
import { effectiveHealth } from '../state/account-status.js';
import type { EventBus } from '../state/events.js';
import type { Store } from '../state/store.js';
import { systemClock, type Clock } from '../state/clock.js';
import { applyQuota } from '../state/quota-history.js';

const log = debuglog('aigate:health');


/** Backoff for failures that say nothing about when to come back: 30 s, doubling, at most 30 min. */
export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_MAX_MS = 30 * 60_000;
const QUOTA_FLUSH_MS = 30_000;
/** Health changes are batched: a failover costs no store write on the request path. */
const HEALTH_FLUSH_MS = 500;

/**
 * Owns each account's health while the gateway runs. Changes take effect in
 * memory at once (the next request sees them) and are persisted in the
 * background, so the CLI and the tray show them too.
 */
export class AccountHealth {
  private timer?: NodeJS.Timeout;
  private timerAt?: number;
  private pendingQuota = new Map<string, { quota: Quota; samples: QuotaSample[] }>();
  private pendingHealth = new Map<string, Health>();
  private flushTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly clock: Clock = systemClock,
  ) {
    store.overlay((data) => {
      for (const a of data.accounts) {
        const h = this.pendingHealth.get(a.id);
        if (h) a.health = h;
        const q = this.pendingQuota.get(a.id);
        if (q) applyQuota(a, q.quota, q.samples);
      }
    });
  }

  /** The time health is judged by (the gateway's clock). */
  now(): number {
    return this.clock.now();
  }

  /** The account's health as last set here (newer than the store until the next flush). */
  of(account: AccountRecord): Health {
    return this.pendingHealth.get(account.id) ?? account.health;
  }

  /** The account's health now: a cooldown or backoff that has passed reads as ok. */
  current(account: AccountRecord): Health {
    return effectiveHealth(this.of(account), this.clock.now());
  }

  /** Out of quota or rate limited: unusable until `resetsAt`, or a backoff when the upstream did not say. */
  coolDown(account: AccountRecord, reason: string, resetsAt?: number): number {
    const failures = (this.of(account).failures ?? 0) + 1;
    const until = resetsAt && resetsAt > this.clock.now() ? resetsAt : this.clock.now() + backoff(failures);
    this.set(account, { state: 'cooling', until, reason, failures });
    return until;
  }

  /** Failed transiently (5xx, reset, timeout, cut stream): tried only when no healthy account is left. */
  degrade(account: AccountRecord, reason: string): number {
    const failures = (this.of(account).failures ?? 0) + 1;
    const until = this.clock.now() + backoff(failures);
    this.set(account, { state: 'degraded', until, reason, failures });
    return until;
  }

  needsLogin(account: AccountRecord, reason: string): void {
    this.set(account, { state: 'needs-login', reason });
  }

  succeeded(account: AccountRecord): void {
    const h = this.of(account);
    if (h.state === 'ok' && !h.failures) return;
    if (h.state === 'needs-login') return;
    // A stream that began before the account ran out of quota may still end well; it says nothing about the quota.
    if (h.state === 'cooling' && (h.until ?? 0) > this.clock.now()) return;
    this.set(account, { state: 'ok' });
  }

  /** Turns every cooldown that has passed back into ok (with an event), then waits for the next one. */
  sweep(): void {
    clearTimeout(this.timer);
    this.timerAt = undefined;
    const now = this.clock.now();
    let next = Infinity;
    for (const account of this.store.data.accounts) {
      const h = this.of(account);
      if (h.state !== 'cooling' && h.state !== 'degraded') continue;
      if ((h.until ?? 0) <= now) this.set(account, effectiveHealth(h, now), 'reset');
      else next = Math.min(next, h.until!);
    }
    if (next !== Infinity) this.sweepAt(next);
  }

  /** The quota the upstream just reported: in memory at once (with a sample for the forecast), in the store within 30 s. */
  recordQuota(account: AccountRecord, quota: Quota): void {
    applyQuota(account, quota);
    this.pendingQuota.set(account.id, { quota, samples: account.quotaSamples ?? [] });
    this.flushLater(QUOTA_FLUSH_MS);
  }

  /** Writes pending health and quota to the store in one update (off the request path). */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (!this.pendingQuota.size && !this.pendingHealth.size) return;
    const quota = this.pendingQuota;
    const health = new Map(this.pendingHealth);
    this.pendingQuota = new Map();
    await this.store
      .update((data) => {
        for (const a of data.accounts) {
          const q = quota.get(a.id);
          if (q) applyQuota(a, q.quota, q.samples);
          const h = health.get(a.id);
          if (h) a.health = h;
        }
      })
      .then(() => {
        // Keep what changed again while this was being written.
        for (const [id, h] of health) if (this.pendingHealth.get(id) === h) this.pendingHealth.delete(id);
      })
      .catch((err) => console.error(`aigate: could not save account health and quota: ${err.message}`));
  }

  private flushLater(ms: number): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), ms);
    this.flushTimer.unref();
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private set(account: AccountRecord, health: Health, reason?: string): void {
    const from: HealthState = this.of(account).state;
    // Memory is the truth while the gateway runs; the store catches up within HEALTH_FLUSH_MS.
    this.pendingHealth.set(account.id, health);
    account.health = health;
    if (from !== health.state) {
      this.bus.emit('account-state', {
        at: this.clock.now(),
        account: account.name,
        from,
        to: health.state,
        reason: reason ?? health.reason,
        until: health.until,
      });
    }
    log('%s: %s → %s (%s)', account.name, from, health.state, health.reason ?? '');
    this.flushLater(HEALTH_FLUSH_MS);
    if (health.until) this.sweepAt(health.until);
  }

  /** Real timers only on the system clock; tests with their own clock call `sweep()` themselves. */
  private sweepAt(at: number): void {
    if (this.clock !== systemClock || (this.timerAt !== undefined && this.timerAt <= at)) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, Math.min(at - this.clock.now() + 50, 2 ** 31 - 1)));
    this.timer.unref();
  }
}

export function backoff(failures: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1), BACKOFF_MAX_MS);
}

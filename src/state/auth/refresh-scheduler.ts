import { debuglog } from 'node:util';
import { CodexAuthSync } from './codex-auth-sync.js';
import { authIssuer } from './oauth.js';
import type { Store } from '../store.js';
import { REFRESH_MARGIN_MS, RefreshingTokens, type RefreshOptions } from './token-refresh.js';

const log = debuglog('aigate:tokens');

export const DEFAULT_INTERVAL_MS = 5 * 60_000;

/**
 * `AIGATE_SCHEDULER_INTERVAL`: `5m`, `90s`, `1h`, `250ms`; a bare number is
 * seconds; `0` or `off` turns the schedule off (refresh then happens on use).
 */
export function schedulerInterval(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_INTERVAL_MS;
  const v = value.trim().toLowerCase();
  if (v === 'off') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(v);
  if (!m) throw new Error(`AIGATE_SCHEDULER_INTERVAL="${value}" is not a duration; use e.g. 5m, 90s, 1h or off`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

/**
 * Keeps official accounts signed in while nobody uses them: every interval,
 * each account whose access token would expire before the next tick (plus
 * the usual margin) is refreshed, and a Codex auth.json that changed is
 * taken in. Changes to auth.json are also picked up as they happen.
 */
export class RefreshScheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly tokens: RefreshingTokens,
    private readonly store: Store,
    private readonly intervalMs: number,
    private readonly codex?: CodexAuthSync | null,
  ) {}

  /** Runs a first tick now (an account may have expired while the gateway was down), then one per interval. */
  start(): void {
    this.codex?.watch(() => void this.syncFromCodex());
    if (this.intervalMs <= 0) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass over the accounts; overlapping ticks share the pass in progress. */
  tick(): Promise<void> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.codex?.close();
    await this.running;
  }

  private async pass(): Promise<void> {
    await this.syncFromCodex();
    const lookahead = this.intervalMs + REFRESH_MARGIN_MS;
    for (const account of this.candidates()) {
      if (!this.tokens.due(account, lookahead)) continue;
      try {
        await this.tokens.refresh(account);
      } catch (err) {
        // Needs-login has been recorded and announced by the token source; anything else is retried next tick.
        log('scheduled refresh of %s: %s', account.name, (err as Error).message);
      }
    }
  }

  private async syncFromCodex(): Promise<void> {
    if (!this.codex) return;
    for (const account of this.store.data.accounts.filter((a) => a.kind === 'official')) {
      await this.tokens.syncFromCodex(account).catch((err) => log('auth.json → %s: %s', account.name, (err as Error).message));
    }
  }

  private candidates() {
    return this.store.data.accounts.filter((a) => a.kind === 'official' && a.enabled && a.health.state !== 'needs-login');
  }
}

export interface TokenRefresh {
  tokens: RefreshingTokens;
  scheduler: RefreshScheduler;
  stop(): Promise<void>;
}

/**
 * The gateway's token refresh, configured from the environment
 * (`AIGATE_AUTH_ISSUER`, `AIGATE_SCHEDULER_INTERVAL`) and sharing tokens with
 * `$CODEX_HOME/auth.json`.
 */
export function startTokenRefresh(options: Omit<RefreshOptions, 'issuer' | 'codex'> & { env: NodeJS.ProcessEnv }): TokenRefresh {
  const codex = CodexAuthSync.forPaths(options.paths);
  const tokens = new RefreshingTokens({ ...options, issuer: authIssuer(options.env), codex });
  const scheduler = new RefreshScheduler(tokens, options.store, schedulerInterval(options.env.AIGATE_SCHEDULER_INTERVAL), codex);
  scheduler.start();
  return { tokens, scheduler, stop: () => scheduler.stop() };
}

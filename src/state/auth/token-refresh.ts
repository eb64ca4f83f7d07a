import crypto from 'node:crypto';
import { debuglog } from 'node:util';
import { credentials, type OfficialTokens } from '../accounts.js';
import type { CodexAuthSync } from './codex-auth-sync.js';
import type { EventBus } from '../events.js';
import { chatgptClaims, decodeJwt, loginClaims } from './jwt.js';
import { requestRefresh, TokenEndpointError, type RefreshReason } from './oauth.js';
import { lockRefresh } from './refresh-lock.js';
import type { UpstreamNet } from '../net/upstream-net.js';
import type { Paths } from '../paths.js';
import type { Vault } from '../secrets.js';
import type { Store } from '../store.js';
import { needsLogin, NeedsLoginError, type TokenSource } from './tokens.js';
import type { AccountRecord, Credentials } from '../schema.js';

const log = debuglog('aigate:tokens');

type Official = Extract<Credentials, { refreshToken: string }>;

/** Refresh this long before the access token's `exp` (or at half its lifetime, for short-lived tokens). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** At most one refresh per account per minute because of a 401; further 401s fail over instead. */
export const UNAUTHORIZED_COOLDOWN_MS = 60_000;

export interface RefreshOptions {
  paths: Paths;
  store: Store;
  vault: Vault;
  bus: EventBus;
  /** The auth server (`AIGATE_AUTH_ISSUER`); its `/oauth/token` refreshes. */
  issuer: string;
  clock?: { now(): number };
  /** `$CODEX_HOME/auth.json`, for accounts Codex is signed in with too; `null` to share nothing. */
  codex?: CodexAuthSync | null;
  /** How refreshes reach the issuer (each account through its own proxy); absent: directly. */
  net?: UpstreamNet;
  /** Marks an account "needs sign-in" (the gateway's AccountHealth); by default the store is updated directly. */
  onNeedsLogin?: (account: AccountRecord, reason: string) => void;
}

/**
 * The gateway's TokenSource for official accounts: access tokens are
 * refreshed shortly before they expire and once after a 401. One refresh per
 * account at a time, in this process (concurrent requests share it) and
 * across processes (a lock file beside the store). The rotated refresh token
 * is in the store, and in Codex's auth.json when Codex shares the account,
 * before the new access token is handed to anyone.
 */
export class RefreshingTokens implements TokenSource {
  private readonly clock: { now(): number };
  private flights = new Map<string, Promise<Official>>();
  private opened = new Map<string, Credentials>();
  /** Hashes of refresh tokens this process spent: never adopt one of those back. */
  private spent = new Set<string>();
  /** When each account last refreshed because of a 401. */
  private unauthorizedAt = new Map<string, number>();
  /** A rotation the store failed to save: the only copy of the live refresh token, retried first. */
  private unsaved = new Map<string, { creds: Official; lastRefresh: string }>();

  constructor(private readonly o: RefreshOptions) {
    this.clock = o.clock ?? { now: () => Date.now() };
  }

  async secretFor(account: AccountRecord): Promise<string> {
    const current = this.latest(account);
    const creds = this.open(current);
    if ('apiKey' in creds) return creds.apiKey;
    if (current.health.state === 'needs-login') throw needsLogin(current, current.health.reason ?? 'its sign-in has ended');
    if (!this.expiring(creds.accessToken)) return creds.accessToken;
    try {
      return (await this.refresh(current)).accessToken;
    } catch (err) {
      // A refresh that failed for now (network, 5xx) leaves a token that still works for a few minutes.
      if (!(err instanceof NeedsLoginError) && !this.expiring(creds.accessToken, 0)) return creds.accessToken;
      throw err;
    }
  }

  async afterUnauthorized(account: AccountRecord, used: string): Promise<string | undefined> {
    const current = this.latest(account);
    const creds = this.open(current);
    if ('apiKey' in creds) return undefined;
    if (creds.accessToken !== used) return creds.accessToken; // refreshed by another request meanwhile
    // A token refused again so soon after a 401 refresh is not cured by another one, and every extra
    // refresh kills the copy Codex just reloaded (it refreshes on its second 401 with what it holds).
    const last = this.unauthorizedAt.get(account.id);
    if (!this.flights.has(account.id) && last !== undefined && this.clock.now() - last < UNAUTHORIZED_COOLDOWN_MS) return undefined;
    this.unauthorizedAt.set(account.id, this.clock.now());
    const fresh = await this.refresh(current, used);
    return fresh.accessToken === used ? undefined : fresh.accessToken;
  }

  /** Whether the account's access token expires within `withinMs` (the scheduler asks with its lookahead). */
  due(account: AccountRecord, withinMs: number): boolean {
    const creds = this.open(this.latest(account));
    return !('apiKey' in creds) && this.expiring(creds.accessToken, withinMs, false);
  }

  /** Single-flight refresh: callers that arrive while one runs get its result. `rejected` is a token a 401 just refused. */
  refresh(account: AccountRecord, rejected?: string): Promise<Official> {
    let flight = this.flights.get(account.id);
    if (!flight) {
      flight = this.refreshLocked(account, rejected).finally(() => this.flights.delete(account.id));
      this.flights.set(account.id, flight);
    }
    return flight;
  }

  /** Takes tokens Codex refreshed on its own (auth.json changed), without spending anything. */
  async syncFromCodex(account: AccountRecord): Promise<boolean> {
    const codex = this.o.codex;
    if (!codex || account.kind !== 'official' || this.flights.has(account.id)) return false;
    const current = this.latest(account);
    const creds = this.open(current) as Official;
    const theirs = await codex.newerTokens(current, creds, this.isSpent);
    if (!theirs) {
      // Behind ours (AI Gate was killed between its store write and auth.json's): hand Codex the live token
      // before it spends the dead one and has to sign in again.
      if (current.lastRefresh && (await codex.isBehind(current, creds))) await this.writeBack(current, creds, current.lastRefresh);
      return false;
    }
    await this.adopt(current, theirs);
    return true;
  }

  private async refreshLocked(seen: AccountRecord, rejected?: string): Promise<Official> {
    const release = await lockRefresh(this.o.paths, seen);
    // Codex's own lock too, when Codex is signed in with this login: it refreshes under it.
    let releaseCodex: (() => Promise<void>) | undefined;
    try {
      releaseCodex = await this.o.codex?.lockIfShared(seen);
      await this.saveUnsaved(seen.id);
      // Re-read under the lock: another process (the CLI, a second gateway, Codex) may have refreshed while we waited.
      const account = await this.o.store.update((data) => structuredClone(data.accounts.find((a) => a.id === seen.id)));
      if (!account) throw new NeedsLoginError(`account ${seen.name} was removed`);
      let creds = this.open(account) as Official;
      const usable = (c: Official) => c.accessToken !== rejected && !this.expiring(c.accessToken);
      if (creds.refreshToken !== (this.open(seen) as Official).refreshToken && usable(creds)) return creds;
      // Codex may have refreshed this same login: take its tokens rather than spend ours against them.
      const theirs = await this.o.codex?.newerTokens(account, creds, this.isSpent);
      if (theirs) {
        creds = await this.adopt(account, theirs);
        if (usable(creds)) return creds;
      }
      const reason: RefreshReason = rejected ? 'unauthorized_recovery' : 'proactive_expiry';
      return await this.rotate(account, creds, reason).catch((err) => this.recover(account, creds, err, usable, seen, reason));
    } finally {
      await releaseCodex?.();
      await release().catch(() => undefined);
    }
  }

  /**
   * A refresh failed. Reused means someone else spent the token: Codex, if it
   * shares the login (an older release takes no lock) — take its newer tokens and
   * try once more. Any other permanent failure means signing in again.
   */
  private async recover(account: AccountRecord, creds: Official, err: unknown, usable: (c: Official) => boolean, seen: AccountRecord, reason: RefreshReason): Promise<Official> {
    if (!(err instanceof TokenEndpointError) || !err.permanent) {
      throw new Error(`${account.name}: ${(err as Error).message}; AI Gate will retry`, { cause: err });
    }
    this.spent.add(hash(creds.refreshToken)); // dead either way: never take it back from auth.json
    if (err.code === 'refresh_token_reused' && this.o.codex) {
      const theirs = await this.o.codex.tokensAfterReuse(account, creds, this.isSpent);
      if (theirs) {
        const adopted = await this.adopt(account, theirs);
        if (usable(adopted)) return adopted;
        try {
          return await this.rotate(account, adopted, reason);
        } catch (again) {
          if (!(again instanceof TokenEndpointError) || !again.permanent) throw new Error(`${account.name}: ${(again as Error).message}`, { cause: again });
          err = again;
        }
      }
    }
    throw await this.markNeedsLogin(seen, (err as TokenEndpointError).reason);
  }

  /** Spends the refresh token; persists the rotated one (store, then auth.json) before anyone uses the new access token. */
  private async rotate(account: AccountRecord, creds: Official, reason: RefreshReason): Promise<Official> {
    const via = await this.o.net?.via(`${this.o.issuer}/oauth/token`, account);
    const grant = await requestRefresh(this.o.issuer, creds.refreshToken, reason, via);
    this.spent.add(hash(creds.refreshToken));
    const next: Official = {
      accessToken: grant.accessToken ?? creds.accessToken,
      refreshToken: grant.refreshToken ?? creds.refreshToken,
      idToken: grant.idToken ?? creds.idToken,
    };
    const lastRefresh = new Date().toISOString();
    try {
      await this.persist(account.id, next, lastRefresh);
    } catch (err) {
      this.unsaved.set(account.id, { creds: next, lastRefresh });
      throw new Error(`${account.name}: refreshed, but the store could not be saved (${(err as Error).message}); AI Gate keeps the new token in memory and retries`, { cause: err });
    }
    const shared = await this.writeBack(account, next, lastRefresh);
    log('%s: refreshed%s', account.name, shared ? ' (auth.json updated)' : '');
    this.o.bus.emit('token-refresh', { at: this.clock.now(), account: account.name, outcome: 'refreshed', sharedWithCodex: shared });
    return next;
  }

  private async adopt(account: AccountRecord, tokens: OfficialTokens): Promise<Official> {
    const creds: Official = { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, idToken: tokens.idToken };
    await this.persist(account.id, creds, tokens.lastRefresh ?? new Date().toISOString());
    log('%s: took the tokens Codex refreshed', account.name);
    this.o.bus.emit('token-refresh', { at: this.clock.now(), account: account.name, outcome: 'adopted', sharedWithCodex: true });
    return creds;
  }

  private async persist(id: string, creds: Official, lastRefresh: string): Promise<void> {
    const secret = this.o.vault.sealJson(creds);
    const access = chatgptClaims(creds.accessToken);
    const claims = loginClaims(creds.accessToken, creds.idToken);
    await this.o.store.update((data) => {
      const a = data.accounts.find((x) => x.id === id);
      if (!a) return;
      a.secret = secret;
      a.tokenExpiresAt = access.exp ? access.exp * 1000 : undefined;
      a.lastRefresh = lastRefresh;
      if (claims.email) a.email = claims.email;
      if (claims.plan) a.plan = claims.plan;
      if (a.health.state === 'needs-login') a.health = { state: 'ok' };
    });
    this.unsaved.delete(id);
  }

  private async saveUnsaved(id: string): Promise<void> {
    const pending = this.unsaved.get(id);
    if (pending) await this.persist(id, pending.creds, pending.lastRefresh);
  }

  private async writeBack(account: AccountRecord, creds: Official, lastRefresh: string): Promise<boolean> {
    try {
      return (await this.o.codex?.writeBack(account, creds, lastRefresh)) ?? false;
    } catch (err) {
      // Codex keeps its own (now spent) token; it will say so and `codex login` fixes it. AI Gate is fine.
      console.error(`aigate: could not update Codex's auth.json for ${account.name}: ${(err as Error).message}`);
      return false;
    }
  }

  /** `account` is the caller's record: the gateway's health marks that object, which failover then sees. */
  private async markNeedsLogin(account: AccountRecord, reason: string): Promise<NeedsLoginError> {
    log('%s: needs sign-in: %s', account.name, reason);
    if (this.o.onNeedsLogin) {
      this.o.onNeedsLogin(account, reason);
      // The store's copy may be a newer object than the caller's: mark it too, so no request slips through
      // (and spends the dead token again) before the health write lands.
      const latest = this.latest(account);
      if (latest !== account) latest.health = account.health;
    } else {
      await this.o.store.update((data) => {
        const a = data.accounts.find((x) => x.id === account.id);
        if (a) a.health = { state: 'needs-login', reason };
      });
    }
    this.o.bus.emit('token-refresh', { at: this.clock.now(), account: account.name, outcome: 'needs-login', reason });
    return needsLogin(account, reason);
  }

  /** The store's current record: the one a request holds may predate a refresh. */
  private latest(account: AccountRecord): AccountRecord {
    return this.o.store.data.accounts.find((a) => a.id === account.id) ?? account;
  }

  private open(account: AccountRecord): Credentials {
    let creds = this.opened.get(account.secret);
    if (!creds) {
      creds = credentials(this.o.vault, account);
      if (this.opened.size > 100) this.opened.clear();
      this.opened.set(account.secret, creds);
    }
    return creds;
  }

  /**
   * Whether the token expires within `marginMs`. On the request path the margin
   * is also capped at half the token's lifetime, so short-lived tokens are not
   * refreshed on every request; the scheduler passes its lookahead uncapped.
   */
  private expiring(accessToken: string, marginMs = REFRESH_MARGIN_MS, capByLifetime = true): boolean {
    const payload = decodeJwt(accessToken);
    const exp = typeof payload?.exp === 'number' ? payload.exp : undefined;
    if (!exp) return false; // no expiry to go by: refresh on 401 only
    const lifetime = capByLifetime && typeof payload?.iat === 'number' ? (exp - payload.iat) * 1000 : Infinity;
    return exp * 1000 - this.clock.now() <= Math.min(marginMs, lifetime / 2);
  }

  private isSpent = (rt: string) => this.spent.has(hash(rt));
}

const hash = (s: string) => crypto.createHash('sha256').update(s).digest('base64url');

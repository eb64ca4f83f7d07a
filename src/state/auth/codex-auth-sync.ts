import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { debuglog } from 'node:util';
import type { OfficialTokens } from '../accounts.js';
import type { CodexAuthFile } from './codex-auth.js';
import { FILE_MODE, readTextIfExists, writeFileAtomically } from '../files.js';
import { lockExclusive } from './codex-auth-lock.js';
import { chatgptClaims } from './jwt.js';
import { codexAuthFile, type Paths } from '../paths.js';
import type { AccountRecord, Credentials } from '../schema.js';

const log = debuglog('aigate:tokens');
/** Codex holds auth.lock for one refresh (a request to the auth server): wait that long, and a margin. */
const REFRESH_LOCK_WAIT_MS = 15_000;
/** Codex holds auth.json.lock only while it renames a file into place. */
const WRITE_LOCK_WAIT_MS = 2_000;

/** A ChatGPT login as `auth.json` holds it. */
export interface CodexLoginSnapshot {
  raw: CodexAuthFile;
  tokens: OfficialTokens;
  accountId?: string;
  userId?: string;
}

type OfficialCredentials = Extract<Credentials, { refreshToken: string }>;

/**
 * Keeps one chain of refresh tokens between AI Gate and Codex when both hold
 * the same ChatGPT account (same account id and user). Refresh tokens rotate:
 * whoever refreshes kills the other's copy unless the new one is shared. So
 * AI Gate writes what it refreshes into `$CODEX_HOME/auth.json`, and reads
 * what Codex refreshed before spending a token of its own.
 *
 * Both sides refresh a shared login under Codex's own `auth.lock` and write
 * auth.json under `auth.json.lock` (codex-auth-lock.ts). Older Codex releases
 * (0.169) took no lock and rewrote auth.json in place, so a read can still
 * land on a half-written file: reads retry briefly, and AI Gate's own writes
 * are atomic renames that keep every other field.
 */
export class CodexAuthSync {
  private watcher?: fs.FSWatcher;
  private waiters = new Set<() => void>();

  constructor(readonly file: string) {}

  static forPaths(paths: Paths): CodexAuthSync {
    return new CodexAuthSync(codexAuthFile(paths));
  }

  /** auth.json's ChatGPT login, or `undefined` when there is none (missing, API key, unreadable). */
  async read(): Promise<CodexLoginSnapshot | undefined> {
    for (let attempt = 0; ; attempt++) {
      let text: string | undefined;
      try {
        text = await readTextIfExists(this.file);
      } catch (err) {
        log('cannot read %s: %s', this.file, (err as Error).message);
        return undefined;
      }
      if (text === undefined) return undefined;
      try {
        return snapshot(JSON.parse(text) as CodexAuthFile);
      } catch {
        // Codex truncates and rewrites auth.json in place; give a writer in progress a moment.
        if (attempt >= 3) {
          log('%s does not parse; leaving it alone', this.file);
          return undefined;
        }
        await sleep(25);
      }
    }
  }

  /** Same ChatGPT account and same user: a Team workspace shares the account id between its members. */
  static sameLogin(account: AccountRecord, login: CodexLoginSnapshot): boolean {
    if (account.kind !== 'official' || !account.chatgptAccountId || login.accountId !== account.chatgptAccountId) return false;
    return (account.chatgptUserId ?? '') === (login.userId ?? '');
  }

  /**
   * Tokens Codex refreshed (or signed in with) since AI Gate last did: a
   * different refresh token, not one AI Gate knows is spent, and a newer
   * `last_refresh`. `anyAge` drops the age test, for when ours is known dead.
   */
  async newerTokens(account: AccountRecord, ours: OfficialCredentials, isSpent: (rt: string) => boolean, anyAge = false): Promise<OfficialTokens | undefined> {
    const login = await this.read();
    if (!login || !CodexAuthSync.sameLogin(account, login)) return undefined;
    const theirs = login.tokens;
    if (theirs.refreshToken === ours.refreshToken || isSpent(theirs.refreshToken)) return undefined;
    if (!anyAge && account.lastRefresh && theirs.lastRefresh && Date.parse(theirs.lastRefresh) <= Date.parse(account.lastRefresh)) return undefined;
    return theirs;
  }

  /**
   * The same login with an older refresh token than ours: AI Gate stopped
   * between its store write and auth.json's (killed mid-refresh), so Codex
   * holds a token the rotation already spent.
   */
  async isBehind(account: AccountRecord, ours: OfficialCredentials): Promise<boolean> {
    const login = await this.read();
    if (!login || !CodexAuthSync.sameLogin(account, login) || login.tokens.refreshToken === ours.refreshToken) return false;
    const theirs = login.tokens.lastRefresh;
    return !!account.lastRefresh && !!theirs && Date.parse(theirs) < Date.parse(account.lastRefresh);
  }

  /**
   * After the auth server said our refresh token was already used: Codex
   * probably spent it a moment ago and is about to write the new one. Look
   * now, and if auth.json has not changed yet, wait for it to (up to `waitMs`).
   */
  async tokensAfterReuse(account: AccountRecord, ours: OfficialCredentials, isSpent: (rt: string) => boolean, waitMs = 2_000): Promise<OfficialTokens | undefined> {
    // Listen before looking, so a write landing between the look and the wait is not missed.
    const change = this.nextChange(waitMs);
    try {
      const now = await this.newerTokens(account, ours, isSpent, true);
      if (now || !(await this.read().then((l) => l && CodexAuthSync.sameLogin(account, l)))) return now;
      await change.happened;
      return await this.newerTokens(account, ours, isSpent, true);
    } finally {
      change.cancel();
    }
  }

  /**
   * Takes Codex's `auth.lock` when auth.json holds this account's login, so
   * AI Gate refreshes it only while Codex does not (Codex waits the same way).
   * Resolves with the release, or undefined when the login is not shared.
   */
  async lockIfShared(account: AccountRecord): Promise<(() => Promise<void>) | undefined> {
    const login = await this.read();
    if (!login || !CodexAuthSync.sameLogin(account, login)) return undefined;
    return lockExclusive(path.join(path.dirname(this.file), 'auth.lock'), REFRESH_LOCK_WAIT_MS);
  }

  /**
   * Writes refreshed tokens into auth.json when it holds the same login:
   * atomically, mode 0600, every other field as it was, under Codex's
   * `auth.json.lock`. Returns whether it wrote.
   */
  async writeBack(account: AccountRecord, creds: OfficialCredentials, lastRefresh: string): Promise<boolean> {
    // Codex's lock only when the login is shared (read again under the lock): other logins are none of its business.
    const login = await this.read();
    if (!login || !CodexAuthSync.sameLogin(account, login)) return false;
    const release = await lockExclusive(`${this.file}.lock`, WRITE_LOCK_WAIT_MS);
    try {
      return await this.writeUnlocked(account, creds, lastRefresh);
    } finally {
      await release();
    }
  }

  private async writeUnlocked(account: AccountRecord, creds: OfficialCredentials, lastRefresh: string): Promise<boolean> {
    const login = await this.read();
    if (!login || !CodexAuthSync.sameLogin(account, login)) return false;
    const raw = login.raw;
    raw.tokens = {
      ...raw.tokens,
      id_token: creds.idToken ?? raw.tokens?.id_token,
      access_token: creds.accessToken,
      refresh_token: creds.refreshToken,
    };
    raw.last_refresh = lastRefresh;
    await writeFileAtomically(this.file, JSON.stringify(raw, null, 2), { mode: FILE_MODE });
    return true;
  }

  /** Calls `onChange` (debounced) whenever auth.json is written or replaced. */
  watch(onChange: () => void): void {
    if (this.watcher) return;
    let pending: NodeJS.Timeout | undefined;
    try {
      // Watch the directory: an atomic rename replaces the file a file watcher would be holding.
      this.watcher = fs.watch(path.dirname(this.file), (_event, name) => {
        if (name !== path.basename(this.file)) return;
        for (const wake of this.waiters) wake();
        if (pending) return;
        pending = setTimeout(() => {
          pending = undefined;
          onChange();
        }, 50);
      });
      this.watcher.on('error', () => this.close());
      this.watcher.unref();
    } catch (err) {
      log('cannot watch %s: %s', path.dirname(this.file), (err as Error).message);
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Settles when auth.json changes, or after `ms`; uses the running watcher, or a one-off watch. */
  private nextChange(ms: number): { happened: Promise<void>; cancel(): void } {
    let once: fs.FSWatcher | undefined;
    let done = () => undefined as void;
    const happened = new Promise<void>((resolve) => {
      done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        once?.close();
        // Codex's in-place write arrives as truncate + write: let it finish before reading.
        setTimeout(resolve, 30);
      };
    });
    const timer = setTimeout(() => done(), ms);
    this.waiters.add(done);
    if (!this.watcher) {
      try {
        once = fs.watch(path.dirname(this.file), (_e, name) => name === path.basename(this.file) && done());
      } catch {
        // No directory to watch: the timer ends the wait.
      }
    }
    return { happened, cancel: done };
  }
}

function snapshot(raw: CodexAuthFile): CodexLoginSnapshot | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const t = raw.tokens;
  if (!t?.access_token || !t.refresh_token) return undefined;
  const id = chatgptClaims(t.id_token);
  const access = chatgptClaims(t.access_token);
  return {
    raw,
    tokens: { accessToken: t.access_token, refreshToken: t.refresh_token, idToken: t.id_token, accountId: t.account_id, lastRefresh: raw.last_refresh },
    accountId: t.account_id ?? id.accountId ?? access.accountId,
    userId: id.userId ?? access.userId,
  };
}

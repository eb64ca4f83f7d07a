import { credentials, type AccountRecord } from './accounts.js';
import type { Vault } from './secrets.js';

/** Thrown when an account cannot be used until the user signs in again. */
export class NeedsLoginError extends Error {
  readonly expose = true;
  readonly status = 401;
}

/** Where the gateway gets the bearer secret for an account. */
export interface TokenSource {
  /** The API key, or an access token that is fresh enough to use now. */
  secretFor(account: AccountRecord): Promise<string>;
  /**
   * After the upstream answered 401 to `used`: a new secret to retry with once,
   * or `undefined` when there is none (API keys, or a refresh that failed).
   */
  afterUnauthorized(account: AccountRecord, used: string): Promise<string | undefined>;
}

/** Secrets as stored, decrypted once per sealed value. API keys and tokens that are not refreshed. */
export class StoredTokens implements TokenSource {
  private cache = new Map<string, string>();

  constructor(private readonly vault: Vault) {}

  async secretFor(account: AccountRecord): Promise<string> {
    let secret = this.cache.get(account.secret);
    if (secret === undefined) {
      const c = credentials(this.vault, account);
      secret = 'apiKey' in c ? c.apiKey : c.accessToken;
      if (this.cache.size > 100) this.cache.clear();
      this.cache.set(account.secret, secret);
    }
    return secret;
  }

  async afterUnauthorized(): Promise<string | undefined> {
    return undefined;
  }
}

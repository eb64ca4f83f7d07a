import type { AccountRecord } from '../schema.js';

/** Thrown when an account cannot be used until the user signs in again. */
export class NeedsLoginError extends Error {
  readonly expose = true;
  readonly status = 401;
}

export const needsLogin = (account: AccountRecord, reason: string) =>
  new NeedsLoginError(`${account.name} needs sign-in (${reason}); run \`aigate accounts login --name ${account.name}\``);

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

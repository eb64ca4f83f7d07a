import path from 'node:path';
import { debuglog } from 'node:util';
import lockfile from 'proper-lockfile';
import type { Paths } from '../paths.js';
import type { AccountRecord } from '../schema.js';

const log = debuglog('aigate:tokens');

/**
 * AI Gate's own lock around one account's refresh, across its processes (the
 * gateway, the CLI, a second gateway): `data/tokens-<id>.lock`. A live holder
 * touches it every stale/2, however long its refresh takes; one left by a
 * killed process goes stale after 15 s and is taken over (the retries outwait
 * that) rather than failing. Resolves with the release.
 */
export function lockRefresh(paths: Paths, account: AccountRecord): Promise<() => Promise<void>> {
  const target = path.join(paths.data, `tokens-${account.id}`);
  return lockfile.lock(target, {
    realpath: false,
    lockfilePath: `${target}.lock`,
    stale: 15_000,
    retries: { retries: 45, minTimeout: 50, maxTimeout: 500 },
    onCompromised: (err) => log('refresh lock for %s: %s', account.name, err.message),
  });
}

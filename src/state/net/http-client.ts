import type { Got } from 'got';

let loading: Promise<Got> | undefined;

/**
 * got, loaded on first use: sign-in, token refresh, usage readings and the
 * CLI's checks use it, the gateway's request path never does (it speaks
 * node:http, see README's Development notes). Imported at start it cost
 * `aigate serve` ~17 MB of RSS and a larger young generation, which on bulky
 * streams turned the relay's short-lived socket buffers into full collections.
 */
export function httpClient(): Promise<Got> {
  return (loading ??= import('got').then((m) => m.default));
}

/**
 * What the popover window may load and open, decided without Electron.
 */
import type { Locale } from '../i18n/i18n.js';
import { routeHash } from '../windows/route.js';
import type { View } from './menu-model.js';

/** Only these go to the system browser when a page opens them (the ChatGPT sign-in); everything else is refused. */
export function opensExternally(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && !u.username && !u.password;
  } catch {
    return false;
  }
}

/**
 * The address for a view. A window already on the gateway's pages is signed
 * in: only the fragment changes, which switches the view without a reload.
 * Otherwise it goes through a fresh one-time login link; the redirect keeps
 * the fragment.
 */
export function popoverUrl(input: { origin: string; current: string; view: View; lang: Locale; query?: Record<string, string>; loginUrl(): string }): string {
  const hash = routeHash({ view: input.view, lang: input.lang, params: input.query });
  return isSignedIn(input.current, input.origin) ? `${input.origin}/aigate/${hash}` : `${input.loginUrl()}${hash}`;
}

/** On the pages' shell (where the login redirect lands), not on a login link or an error page. */
function isSignedIn(current: string, origin: string): boolean {
  try {
    const url = new URL(current);
    return url.origin === origin && url.pathname === '/aigate/';
  } catch {
    return false;
  }
}

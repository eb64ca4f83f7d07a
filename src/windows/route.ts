/**
 * Which popover to show, from the page's address: `#view=stats&lang=zh-CN`
 * (what the tray loads; the login redirect keeps the fragment) or
 * `?view=stats` (a bookmark in a browser). Tabs change only the fragment, so
 * switching never navigates away.
 */
import { isLocale, type Locale } from '../i18n/i18n.js';

export const VIEWS = ['accounts', 'stats', 'mcp', 'backups'] as const;
export type View = (typeof VIEWS)[number];

export interface Route {
  view: View;
  lang?: Locale;
  /** Everything else in the address: `restore=<backup id>` and the like. */
  params: URLSearchParams;
}

export function readRoute(location: { search: string; hash: string }): Route {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of new URLSearchParams(location.hash.replace(/^#/, ''))) params.set(key, value);
  const view = params.get('view');
  const lang = params.get('lang');
  params.delete('view');
  params.delete('lang');
  return { view: (VIEWS as readonly string[]).includes(view ?? '') ? (view as View) : 'accounts', lang: isLocale(lang) ? lang : undefined, params };
}

export function routeHash(route: { view: View; lang?: Locale; params?: Record<string, string> }): string {
  const params = new URLSearchParams({ view: route.view, ...(route.lang ? { lang: route.lang } : {}), ...route.params });
  return `#${params}`;
}

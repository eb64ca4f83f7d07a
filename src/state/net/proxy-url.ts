/**
 * Upstream proxies as the user gives them (`http://`, `https://`, `socks5://`,
 * `socks5h://`, optionally with `user:password@`) and as they are kept: the
 * URL with its password masked, which is all anything ever shows, and the
 * full URL sealed by the vault when it carries a password.
 */
import type { Vault } from '../secrets.js';
import { UserError } from '../user-error.js';

export const PROXY_SCHEMES = ['http:', 'https:', 'socks5:', 'socks5h:'] as const;

/** A proxy URL as stored: `url` has its password masked; `sealed` is the whole URL, encrypted, when it has one. */
export interface StoredProxy {
  url: string;
  sealed?: string;
}

/** `settings.upstreamProxy`: the OS/environment's proxy (default), none, or this one. */
export type ProxySetting = 'system' | 'direct' | StoredProxy;
/** `account.upstreamProxy`: absent means the setting above. */
export type AccountProxy = 'direct' | StoredProxy;

// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const CONTROL = /[\s\x00-\x1f\x7f]/;

/** `input` as a URL, or undefined when it is none or carries whitespace or control characters. */
export function urlOrNothing(input: string): URL | undefined {
  if (CONTROL.test(input)) return undefined;
  try {
    return new URL(input);
  } catch {
    return undefined;
  }
}

/** Checks a proxy URL; the message never repeats the input, which may hold a password. */
export function parseProxyUrl(input: string): URL {
  const url = urlOrNothing(input);
  if (!url) throw new UserError('the proxy is not a URL; give it as http://host:port, https://…, socks5://… or socks5h://… (optionally user:password@host)');
  if (!(PROXY_SCHEMES as readonly string[]).includes(url.protocol)) {
    throw new UserError(`a proxy must be http://, https://, socks5:// or socks5h://, not ${url.protocol}//`);
  }
  if (!url.hostname) throw new UserError('the proxy URL names no host');
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    throw new UserError(`the proxy URL must be only scheme://[user:password@]host:port, without a path, query or fragment (${maskProxyUrl(url)})`);
  }
  if (url.password && !url.username) throw new UserError('the proxy URL has a password but no user name');
  return url;
}

/** `scheme://user:***@host:port`: how a proxy is shown everywhere. */
export function maskProxyUrl(input: URL | string): string {
  const url = new URL(typeof input === 'string' ? input : input.href);
  if (url.password) url.password = '***';
  return url.href.replace(/\/$/, '').replace('%2A%2A%2A', '***');
}

/** The form a checked URL is stored in: the password only inside `sealed`. */
export function storeProxy(vault: Vault, url: URL): StoredProxy {
  const href = url.href.replace(/\/$/, '');
  return url.password ? { url: maskProxyUrl(url), sealed: vault.seal(href) } : { url: href };
}

/** The full URL, password included, for the agent that connects through it. */
export function openProxy(vault: Vault, stored: StoredProxy): string {
  return stored.sealed ? vault.open(stored.sealed) : stored.url;
}

/** What users see: `system`, `direct`, `default` (an account that follows the setting) or the masked URL. */
export function showProxy(choice: ProxySetting | AccountProxy | undefined): string {
  if (choice === undefined) return 'default';
  return typeof choice === 'string' ? choice : choice.url;
}

/**
 * Reads a proxy choice as typed: `system` or `direct` for the setting,
 * `default` or `direct` for an account, or a URL. `null` for an account's
 * `default` (the field is removed).
 */
export function proxyChoice(vault: Vault, input: string, scope: 'setting' | 'account'): ProxySetting | null {
  const word = input.trim();
  if (word === 'direct') return 'direct';
  if (scope === 'setting' && word === 'system') return 'system';
  if (scope === 'account' && word === 'default') return null;
  if (!word.includes('://')) {
    const words = scope === 'setting' ? '`system`, `direct`' : '`default`, `direct`';
    throw new UserError(`"${word.slice(0, 40).replace(CONTROL, '?')}" is not a proxy: use ${words} or a URL such as http://127.0.0.1:3128 or socks5h://127.0.0.1:1080`);
  }
  return storeProxy(vault, parseProxyUrl(word));
}

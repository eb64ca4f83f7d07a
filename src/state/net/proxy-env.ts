/**
 * The proxy the environment names for a URL, the way curl reads it:
 * `https_proxy`/`HTTPS_PROXY` for https, `http_proxy`/`HTTP_PROXY` for http,
 * `all_proxy`/`ALL_PROXY` otherwise; `no_proxy`/`NO_PROXY` lists exceptions
 * (`*`, host names that also match their subdomains, `.suffix`, `host:port`,
 * IP addresses). Loopback is never proxied, whatever the environment says.
 * (proxy-from-env reads only `process.env` and matches `example.com` only
 * exactly, so it is not used here.)
 */
import net from 'node:net';

const pick = (env: NodeJS.ProcessEnv, name: string) => env[name.toLowerCase()] || env[name.toUpperCase()] || undefined;

/** `localhost` (and `*.localhost`, RFC 6761), 127.0.0.0/8 and ::1: always reached directly. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

const defaultPort = (url: URL) => Number(url.port) || (url.protocol === 'https:' ? 443 : 80);

/** Whether one `no_proxy` entry exempts `url`. */
function exempts(entry: string, url: URL): boolean {
  let host = entry.trim().toLowerCase();
  if (!host) return false;
  if (host === '*') return true;
  if (!net.isIPv6(host)) {
    const withPort = /^(.+):(\d+)$/.exec(host);
    if (withPort) {
      if (Number(withPort[2]) !== defaultPort(url)) return false;
      host = withPort[1]!;
    }
  }
  host = host.replace(/^\[|\]$/g, '').replace(/^\*?\./, '.');
  const target = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host.startsWith('.')) return target.endsWith(host) || target === host.slice(1);
  return target === host || target.endsWith(`.${host}`);
}

/** The proxy URL the environment names for `url`, or undefined for a direct connection. */
export function proxyFromEnv(url: URL, env: NodeJS.ProcessEnv): string | undefined {
  if (isLoopback(url.hostname)) return undefined;
  const proxy = url.protocol === 'https:' ? (pick(env, 'https_proxy') ?? pick(env, 'all_proxy')) : (pick(env, 'http_proxy') ?? pick(env, 'all_proxy'));
  if (!proxy) return undefined;
  const noProxy = pick(env, 'no_proxy');
  if (noProxy && noProxy.split(/[,\s]+/).some((entry) => exempts(entry, url))) return undefined;
  // curl takes a proxy without a scheme as http://.
  return proxy.includes('://') ? proxy : `http://${proxy}`;
}

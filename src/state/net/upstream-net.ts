import type { Agent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { debuglog } from 'node:util';
import type { Clock } from '../clock.js';
import type { AccountRecord } from '../schema.js';
import type { Vault } from '../secrets.js';
import type { Store } from '../store.js';
import { UserError } from '../user-error.js';
import { ProxyAgents } from './proxy-agents.js';
import { isLoopback, proxyFromEnv } from './proxy-env.js';
import { maskProxyUrl, openProxy, parseProxyUrl, type StoredProxy } from './proxy-url.js';
import { parsePacAnswer, type SystemProxyResolver } from './system-proxy.js';

const log = debuglog('aigate:net');

/** How one request reaches its upstream. */
export interface Route {
  /** The proxy's agent; undefined: a direct connection (the caller's own pool). */
  agent?: Agent;
  /** The proxy with its password masked, for messages and logs. */
  proxy?: string;
}

/** What got takes: its `agent` option, and the proxy for messages. */
export interface GotVia {
  agent?: { http: Agent; https: HttpsAgent };
  proxy?: string;
}

export interface NetOptions {
  store: Store;
  vault: Vault;
  /** Where `system` reads the proxy when there is no OS resolver (`aigate serve`, the CLI). */
  env: NodeJS.ProcessEnv;
  /** The OS proxy settings (the tray passes Electron's `session.resolveProxy`). */
  system?: SystemProxyResolver;
  clock?: Clock;
}

const DIRECT: Route = {};
/** How long an OS answer holds for one origin: PAC scripts and network changes move it, but not per request. */
const SYSTEM_TTL_MS = 60_000;

/**
 * Decides, per request, whether it goes direct or through which proxy:
 * the account's own choice, else `settings.upstreamProxy`, whose default
 * `system` means the OS proxy settings in the tray and the environment
 * (`HTTPS_PROXY`, `NO_PROXY`, …) headless. Loopback upstreams are always
 * reached directly. Agents are made once per proxy URL.
 */
export class UpstreamNet {
  private readonly agents = new ProxyAgents();
  private readonly routes = new Map<string, Route>();
  private readonly opened = new Map<string, string>();
  private readonly answers = new Map<string, { at: number; proxy?: string }>();
  /** Environment proxies already found usable. */
  private readonly checked = new Set<string>();

  constructor(private readonly o: NetOptions) {}

  async route(url: URL, account?: AccountRecord): Promise<Route> {
    const proxy = await this.proxyFor(url, account);
    if (!proxy) return DIRECT;
    const key = `${url.protocol}${proxy}`;
    let route = this.routes.get(key);
    if (!route) {
      const pair = await this.agents.for(proxy);
      route = { agent: url.protocol === 'https:' ? pair.https : pair.http, proxy: maskProxyUrl(proxy) };
      this.routes.set(key, route);
    }
    return route;
  }

  /** The same decision in the shape got's `agent` option takes (sign-in, refresh, usage). */
  async via(url: string, account?: AccountRecord): Promise<GotVia> {
    const route = await this.route(new URL(url), account);
    // The proxy agents serve both schemes (they tell them apart per request).
    return route.agent ? { agent: { http: route.agent, https: route.agent as HttpsAgent }, proxy: route.proxy } : {};
  }

  /** The full proxy URL `url` goes through for `account`, or undefined for direct. */
  async proxyFor(url: URL, account?: AccountRecord): Promise<string | undefined> {
    if (isLoopback(url.hostname)) return undefined;
    const choice = account?.upstreamProxy ?? this.o.store.data.settings.upstreamProxy ?? 'system';
    if (choice === 'direct') return undefined;
    if (typeof choice === 'object') return this.open(choice);
    if (this.o.system) return this.fromSystem(url);
    const fromEnv = proxyFromEnv(url, this.o.env);
    if (fromEnv && !this.checked.has(fromEnv)) {
      checkEnvProxy(fromEnv, url);
      this.checked.add(fromEnv);
    }
    return fromEnv;
  }

  close(): void {
    this.agents.destroy();
    this.routes.clear();
  }

  private open(stored: StoredProxy): string {
    if (!stored.sealed) return stored.url;
    let url = this.opened.get(stored.sealed);
    if (!url) {
      url = openProxy(this.o.vault, stored);
      this.opened.set(stored.sealed, url);
    }
    return url;
  }

  private async fromSystem(url: URL): Promise<string | undefined> {
    const now = (this.o.clock ?? Date).now();
    const cached = this.answers.get(url.origin);
    if (cached && now - cached.at < SYSTEM_TTL_MS) return cached.proxy;
    let proxy: string | undefined;
    try {
      proxy = parsePacAnswer(await this.o.system!(url.href));
    } catch (err) {
      // The OS could not say: a direct connection is what an unconfigured machine gets too.
      log('system proxy for %s: %s', url.origin, (err as Error).message);
    }
    this.answers.set(url.origin, { at: now, proxy });
    return proxy;
  }
}

/** An environment proxy AI Gate cannot use is named (masked) with the variables to fix, not guessed around. */
function checkEnvProxy(proxy: string, url: URL): void {
  try {
    parseProxyUrl(proxy);
  } catch (err) {
    const vars = url.protocol === 'https:' ? 'HTTPS_PROXY/https_proxy or ALL_PROXY' : 'HTTP_PROXY/http_proxy or ALL_PROXY';
    throw new UserError(`the environment's proxy for ${url.protocol}// upstreams (${vars}) is not usable: ${(err as Error).message}`);
  }
}

/** ` through proxy http://u:***@h:p` for messages about a request that went through one. */
export const through = (via?: GotVia): string => (via?.proxy ? ` through proxy ${via.proxy}` : '');

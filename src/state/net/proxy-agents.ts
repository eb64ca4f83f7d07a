import type { Agent } from 'node:http';

/**
 * One pair of keep-alive agents per proxy URL, made on first use and kept:
 * a relay through a proxy reuses its tunnels the way a direct one reuses
 * its connections. Through an HTTP(S) proxy, https upstreams are tunnelled
 * with CONNECT and http ones are forwarded (as curl does); a SOCKS proxy
 * carries both. The pools are sized like the direct ones (see upstream.ts).
 * The agent packages load with the first proxy: with none configured they
 * would only add to the gateway's memory (the SOCKS one alone ~10 MB of RSS).
 */
const POOL = { keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' } as const;

export interface ProxyAgentPair {
  http: Agent;
  https: Agent;
}

export class ProxyAgents {
  private readonly pairs = new Map<string, ProxyAgentPair>();

  /** The agents for `proxyUrl` (the full URL, password included: it never leaves memory). */
  async for(proxyUrl: string): Promise<ProxyAgentPair> {
    let pair = this.pairs.get(proxyUrl);
    if (!pair) {
      if (proxyUrl.startsWith('socks')) {
        const { SocksProxyAgent } = await import('socks-proxy-agent');
        const socks = new SocksProxyAgent(proxyUrl, POOL);
        pair = { http: socks, https: socks };
      } else {
        const [{ HttpProxyAgent }, { HttpsProxyAgent }] = await Promise.all([import('http-proxy-agent'), import('https-proxy-agent')]);
        pair = { http: new HttpProxyAgent(proxyUrl, POOL), https: new HttpsProxyAgent(proxyUrl, POOL) };
      }
      // Two requests may have waited for the same import: the first pair made is the one kept.
      pair = this.pairs.get(proxyUrl) ?? pair;
      this.pairs.set(proxyUrl, pair);
    }
    return pair;
  }

  /** How many proxies have agents (each made once, however many requests go through it). */
  get size(): number {
    return this.pairs.size;
  }

  destroy(): void {
    for (const pair of this.pairs.values()) {
      pair.http.destroy();
      pair.https.destroy();
    }
    this.pairs.clear();
  }
}

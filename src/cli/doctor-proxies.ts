import { authIssuer } from '../state/auth/oauth.js';
import { probeRoute } from '../state/net/proxy-probe.js';
import type { UpstreamNet } from '../state/net/upstream-net.js';
import type { AccountRecord } from '../state/schema.js';
import { DEFAULT_CHATGPT_BASE_URL } from '../proxy/providers.js';

/** One line of `aigate doctor` (its `Check`). */
interface Check {
  name: string;
  status: 'ok' | 'fail';
  message: string;
  fix?: string;
}

interface Use {
  url: URL;
  account?: AccountRecord;
  who: string;
}

/**
 * `aigate doctor`'s proxy checks: every proxy a request would take (an
 * account's own, the setting, the environment's), tried once towards the
 * upstream that uses it, with what is wrong and how to change it.
 */
export async function checkProxies(net: UpstreamNet, accounts: readonly AccountRecord[], env: NodeJS.ProcessEnv): Promise<Check[]> {
  const chatgpt = env.AIGATE_CHATGPT_BASE_URL || DEFAULT_CHATGPT_BASE_URL;
  const uses: Use[] = accounts.map((a) => ({ url: new URL(a.kind === 'official' ? chatgpt : a.baseUrl!), account: a, who: a.name }));
  uses.push({ url: new URL(authIssuer(env)), who: 'sign-in' });
  const groups = new Map<string, { use: Use; who: string[]; proxy: string }>();
  const checks: Check[] = [];
  for (const use of uses) {
    let proxy: string | undefined;
    try {
      proxy = await net.proxyFor(use.url, use.account);
    } catch (err) {
      checks.push({ name: 'proxy', status: 'fail', message: (err as Error).message, fix: 'fix or unset the variable, or `aigate settings set upstreamProxy direct|URL`' });
      continue;
    }
    if (!proxy) continue;
    const key = `${proxy} ${use.url.origin}`;
    const group = groups.get(key) ?? { use, who: [], proxy };
    group.who.push(use.who);
    groups.set(key, group);
  }
  for (const { use, who } of groups.values()) {
    const route = await net.route(use.url, use.account);
    const result = await probeRoute(use.url, route);
    const name = `proxy ${route.proxy}`;
    const message = `${result.message} (for ${who.join(', ')})`;
    checks.push(
      result.ok
        ? { name, status: 'ok', message }
        : {
            name,
            status: 'fail',
            message,
            fix: 'check that the proxy runs there and takes this user name and password; change it with `aigate settings set upstreamProxy URL|direct|system` or `aigate accounts set NAME --upstream-proxy URL|default|direct`',
          },
    );
  }
  return checks;
}

/** The proxies, upstream and gateways the upstream-proxy e2e files share; everything is stopped after the file. */
import { ROOT, runCli, tempHome, type TempHome } from '../_helpers.js';
import { hostsFile, makeCert, startMicrosocks, startServe, startTinyproxy, startTlsUpstream, type ProxyProcess, type ServeChild, type TlsUpstream } from '../_proxies.js';

/** Only the proxies can resolve these (their hosts file); the gateway cannot, unless given `names` too. */
export const NAMES = ['upstream.test', 'auth.test', 'other.test'];
export const PASS = { tinyproxy: 'tp-pass-7c1e90', socks: 'sx-pass-4be2d1' };

export interface ProxyRig {
  dir: string;
  cert: string;
  hosts: string;
  /** tinyproxy without auth, outgoing from 127.0.0.9 */
  http: ProxyProcess;
  /** tinyproxy with Basic auth (alice), from 127.0.0.11 */
  httpAuth: ProxyProcess;
  /** microsocks with user/password (bob), socks5h, from 127.0.0.10 */
  socks: ProxyProcess;
  /** microsocks without auth, socks5 (local DNS), from 127.0.0.12 */
  socksLocal: ProxyProcess;
  /** Answers only connections from the four proxies. */
  upstream: TlsUpstream;
  upstreamUrl: string;
}

export async function proxyRig(): Promise<ProxyRig> {
  const home = await tempHome('aigate-proxies-');
  const { cert, key } = makeCert(home.dir, NAMES);
  const hosts = await hostsFile(home.dir, NAMES);
  const [http, httpAuth, socks, socksLocal] = await Promise.all([
    startTinyproxy(home.dir, { bind: '127.0.0.9', hosts }),
    startTinyproxy(home.dir, { bind: '127.0.0.11', hosts, auth: { user: 'alice', pass: PASS.tinyproxy } }),
    startMicrosocks({ bind: '127.0.0.10', hosts, auth: { user: 'bob', pass: PASS.socks } }),
    startMicrosocks({ bind: '127.0.0.12', scheme: 'socks5' }),
  ]);
  const upstream = await startTlsUpstream({ cert, key, tag: 'P', onlyFrom: ['127.0.0.9', '127.0.0.10', '127.0.0.11', '127.0.0.12'] });
  home.defer(() => Promise.all([http.stop(), httpAuth.stop(), socks.stop(), socksLocal.stop(), upstream.close()]));
  return { dir: home.dir, cert, hosts, http, httpAuth, socks, socksLocal, upstream, upstreamUrl: `https://upstream.test:${upstream.port}/v1` };
}

export interface GatewayHome extends TempHome {
  gw: ServeChild;
  cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * A fresh home whose accounts and settings `setup` makes with the real CLI,
 * then `aigate serve` on it (trusting the test certificate), stopped after the file.
 */
export async function gatewayHome(rig: ProxyRig, extraEnv: NodeJS.ProcessEnv, setup: (cli: GatewayHome['cli']) => Promise<void>, hosts?: string): Promise<GatewayHome> {
  const home = await tempHome();
  const env = { ...home.env, AIGATE_KEYCHAIN: 'off', NODE_EXTRA_CA_CERTS: rig.cert, ...extraEnv };
  const cli = async (...args: string[]) => {
    const stdin = args[0] === 'accounts' && args[1] === 'add' ? `sk-${args[2]}-key-0123456789` : '';
    const result = await runCli(args, env, stdin);
    if (result.code !== 0 && !args.includes('doctor')) throw new Error(`aigate ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
    return result;
  };
  await setup(cli);
  const gw = await startServe(ROOT, env, hosts);
  home.defer(() => gw.stop());
  return { ...home, env, gw, cli };
}

export const codexHome = (home: TempHome) => ({ home: home.dir, codexHome: home.paths.codexHome, extra: { GW_KEY: 'codex-side-key' } });

/**
 * The composition root: opens the state, then starts the gateway with the
 * admin API mounted beside it and the token refresh schedule running. What
 * `aigate serve` and the tray both run; nothing else wires the parts together.
 */
import type { Middleware } from 'koa';
import { adminApi, type AdminApi, type AdminOptions } from './admin/api.js';
import type { AdminHost } from './admin/routes.js';
import type { GatewayDeps } from './proxy/deps.js';
import { startGateway, type Gateway } from './proxy/gateway.js';
import { Affinity } from './proxy/affinity.js';
import { AccountHealth } from './proxy/health.js';
import type { ListenAddress } from './proxy/listen-address.js';
import { DEFAULT_CHATGPT_BASE_URL } from './proxy/providers.js';
import { Upstream } from './proxy/upstream.js';
import { startTokenRefresh } from './state/auth/refresh-scheduler.js';
import type { TokenSource } from './state/auth/tokens.js';
import { systemClock, type Clock } from './state/clock.js';
import { Compactions } from './state/compactions.js';
import { Conversations } from './state/conversations.js';
import { EventBus } from './state/events.js';
import type { SystemProxyResolver } from './state/net/system-proxy.js';
import { UpstreamNet } from './state/net/upstream-net.js';
import { resolvePaths, type Paths } from './state/paths.js';
import { Vault, type Keychain } from './state/secrets.js';
import { StatsRecorder } from './state/stats/records.js';
import { Store } from './state/store.js';

export interface LaunchOptions {
  address: ListenAddress;
  env?: NodeJS.ProcessEnv;
  paths?: Paths;
  clock?: Clock;
  /** `null`: no OS keychain (key file); `undefined`: ask the OS. */
  keychain?: Keychain | null;
  /** Replaces the refreshing token source (tests). */
  tokens?: (vault: Vault, store: Store, bus: EventBus) => TokenSource;
  /** Routes mounted after the Codex routes and the admin API. */
  extra?: (deps: RunningGateway) => Middleware[];
  admin?: AdminOptions;
  /** How long request records wait in memory before they are written. @default 1000 */
  statsFlushMs?: number;
  /**
   * The OS proxy settings for `upstreamProxy: system` (the tray passes Electron's
   * `session.resolveProxy`); absent: the environment (`HTTPS_PROXY`, `NO_PROXY`, …).
   */
  systemProxy?: SystemProxyResolver;
}

export interface RunningGateway extends GatewayDeps, AdminHost {
  gateway: Gateway;
  admin: AdminApi;
  stop(drainMs?: number): Promise<void>;
}

export async function launchGateway(options: LaunchOptions): Promise<RunningGateway> {
  const env = options.env ?? process.env;
  const paths = options.paths ?? resolvePaths(env);
  const clock = options.clock ?? systemClock;
  const store = await Store.open(paths);
  const vault = await Vault.open(paths, options.keychain);
  const bus = new EventBus();
  const health = new AccountHealth(store, bus, clock);
  const conversations = new Conversations(paths);
  await conversations.load();
  const compactions = new Compactions(paths, vault, clock);
  await compactions.load();
  const net = new UpstreamNet({ store, vault, env, clock, system: options.systemProxy });
  const refresh = options.tokens ? undefined : startTokenRefresh({ paths, store, vault, bus, env, clock, net, onNeedsLogin: (a, why) => health.needsLogin(a, why) });
  const deps: GatewayDeps = {
    store,
    bus,
    clock,
    health,
    conversations,
    compactions,
    affinity: new Affinity(conversations),
    tokens: options.tokens ? options.tokens(vault, store, bus) : refresh!.tokens,
    urls: { chatgptBaseUrl: env.AIGATE_CHATGPT_BASE_URL || DEFAULT_CHATGPT_BASE_URL },
    upstream: new Upstream(net, bus, clock),
    headersTimeoutMs: Number(env.AIGATE_HEADERS_TIMEOUT_MS) || 60_000,
  };
  store.watch(() => bus.emit('accounts-changed'));
  health.sweep();
  const stats = env.AIGATE_STATS === 'off' ? undefined : startStats(paths, store, bus, clock, options.statsFlushMs);
  const running = { ...deps, paths, vault, stats, env, net, gatewayUrl: () => running.gateway.url } as RunningGateway;
  running.admin = await adminApi(running, options.admin);
  running.gateway = await startGateway(deps, options.address, [running.admin.middleware, ...(options.extra?.(running) ?? [])]);
  running.stop = async (drainMs?: number) => {
    running.admin.close();
    await running.gateway.close(drainMs);
    await refresh?.stop();
    health.close();
    net.close();
    store.close();
    await Promise.all([health.flush(), conversations.save(), stats?.stop()]);
    await store.idle();
  };
  return running;
}

/** Statistics go to `data/stats/` in batches; old days are removed now and on the first write of each day. */
function startStats(paths: Paths, store: Store, bus: EventBus, clock: Clock, flushMs?: number): StatsRecorder {
  const stats = new StatsRecorder(paths, bus, { clock, flushMs, retentionDays: () => store.data.settings.statsRetentionDays });
  void stats.prune().catch((err) => console.error(`aigate: could not remove old statistics: ${err.message}`));
  return stats;
}

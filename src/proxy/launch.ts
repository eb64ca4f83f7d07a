import type { Middleware } from 'koa';
import { EventBus } from '../state/events.js';
import { resolvePaths, type Paths } from '../state/paths.js';
import { Vault, type Keychain } from '../state/secrets.js';
import { Store } from '../state/store.js';
import { StoredTokens, type TokenSource } from '../state/tokens.js';
import { Conversations } from './conversations.js';
import type { GatewayDeps } from './failover.js';
import { startGateway, type Gateway } from './gateway.js';
import { AccountHealth, systemClock, type Clock } from './health.js';
import type { ListenAddress } from './listen-address.js';
import { DEFAULT_CHATGPT_BASE_URL } from './providers.js';

export interface LaunchOptions {
  address: ListenAddress;
  env?: NodeJS.ProcessEnv;
  paths?: Paths;
  clock?: Clock;
  /** `null`: no OS keychain (key file); `undefined`: ask the OS. */
  keychain?: Keychain | null;
  /** Replaces the stored-secret token source (tests, OAuth refresh). */
  tokens?: (vault: Vault, store: Store, bus: EventBus) => TokenSource;
  /** Routes mounted after the Codex routes (admin API, popovers). */
  extra?: (deps: RunningGateway) => Middleware[];
}

export interface RunningGateway extends GatewayDeps {
  paths: Paths;
  vault: Vault;
  gateway: Gateway;
  stop(drainMs?: number): Promise<void>;
}

/** Opens the state and starts the gateway: what `aigate serve` and the tray both run. */
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
  const deps: GatewayDeps = {
    store,
    bus,
    clock,
    health,
    conversations,
    tokens: options.tokens ? options.tokens(vault, store, bus) : new StoredTokens(vault),
    urls: { chatgptBaseUrl: env.AIGATE_CHATGPT_BASE_URL || DEFAULT_CHATGPT_BASE_URL },
    headersTimeoutMs: Number(env.AIGATE_HEADERS_TIMEOUT_MS) || 60_000,
  };
  store.watch(() => bus.emit('accounts-changed'));
  health.sweep();
  const running = { ...deps, paths, vault } as RunningGateway;
  running.gateway = await startGateway(deps, options.address, options.extra?.(running) ?? []);
  running.stop = async (drainMs?: number) => {
    await running.gateway.close(drainMs);
    health.close();
    store.close();
    await Promise.all([health.flushQuota(), conversations.save()]);
  };
  return running;
}

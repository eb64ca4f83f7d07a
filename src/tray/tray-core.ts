/**
 * What the tray runs on, without Electron: the gateway (`launchGateway`, the
 * code `aigate serve` runs) and the state the menu is drawn from. When the
 * gateway cannot start (its port is taken, say by `aigate serve`), the tray
 * still opens the store so the menu works and says why.
 */
import { launchGateway, type LaunchOptions, type RunningGateway } from '../launch.js';
import type { ListenAddress } from '../proxy/listen-address.js';
import { listBackups } from '../state/codex/backups.js';
import type { StateContext } from '../state/context.js';
import type { EventBus } from '../state/events.js';
import { resolvePaths } from '../state/paths.js';
import { Vault } from '../state/secrets.js';
import { Store } from '../state/store.js';
import { resolveLocale, type LanguagePref } from '../i18n/i18n.js';
import type { TrayState } from './menu-model.js';

export interface TrayCore {
  ctx: StateContext;
  /** Absent when the gateway is not ours: then no events arrive and the menu refreshes on a timer. */
  bus?: EventBus;
  running?: RunningGateway;
  /** Why the gateway did not start. */
  gatewayError?: string;
  close(): Promise<void>;
}

export async function startCore(options: Omit<LaunchOptions, 'address'> & { address: ListenAddress }): Promise<TrayCore> {
  try {
    const running = await launchGateway(options);
    return {
      ctx: { paths: running.paths, store: running.store, vault: running.vault },
      bus: running.bus,
      running,
      close: () => running.stop(),
    };
  } catch (err) {
    const paths = options.paths ?? resolvePaths(options.env);
    const store = await Store.open(paths);
    const vault = await Vault.open(paths, options.keychain);
    store.watch(() => undefined);
    return { ctx: { paths, store, vault }, gatewayError: (err as Error).message, close: async () => store.close() };
  }
}

export interface UiState {
  language: LanguagePref;
  /** The OS's preferred languages, e.g. `app.getPreferredSystemLanguages()`. */
  systemLocales: readonly string[];
  launchAtLogin?: boolean;
  now: number;
}

/** A snapshot for `buildMenu`: accounts and settings from memory, backups from disk (newest first). */
export async function trayState(core: TrayCore, ui: UiState): Promise<TrayState> {
  const data = core.ctx.store.data;
  const backups = await listBackups(core.ctx).catch(() => []);
  return {
    now: ui.now,
    locale: resolveLocale(ui.language, ui.systemLocales),
    language: ui.language,
    accounts: data.accounts,
    settings: { active: data.settings.active, failover: data.settings.failover, notifications: data.settings.notifications },
    proxy: data.proxy ? { mode: data.proxy.mode } : undefined,
    backups: backups.map((b) => ({ id: b.id, at: Date.parse(b.createdAt), reason: b.reason, note: b.note })),
    launchAtLogin: ui.launchAtLogin,
    gatewayError: core.gatewayError,
  };
}

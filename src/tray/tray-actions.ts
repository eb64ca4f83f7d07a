/**
 * What a tray menu click does. State changes go through the same functions
 * the CLI and the admin API use; the Electron-only effects (windows, login
 * items, quitting) are handed to the host.
 */
import { useAccount } from '../state/accounts.js';
import { createBackup } from '../state/codex/backups.js';
import { proxyOff, proxyOn } from '../state/codex/proxy.js';
import type { LanguagePref } from '../i18n/i18n.js';
import type { TrayAction, View } from './menu-model.js';
import type { TrayCore } from './tray-core.js';

export interface TrayHost {
  openView(view: View, query?: Record<string, string>): void;
  setLanguage(language: LanguagePref): void;
  setLaunchAtLogin(on: boolean): void;
  quit(): void;
  /** The menu changed something: redraw it. */
  refresh(): void;
}

export async function performAction(action: TrayAction, core: TrayCore, host: TrayHost): Promise<void> {
  const { ctx } = core;
  switch (action.kind) {
    case 'proxy-on':
      await proxyOn(ctx, { mode: action.mode === 'third-party' ? undefined : action.mode, gatewayUrl: core.running?.gateway.url });
      break;
    case 'proxy-off':
      await proxyOff(ctx);
      break;
    case 'use-account':
      await useAccount(ctx.store, action.name);
      break;
    case 'set-failover':
      await ctx.store.update((d) => void (d.settings.failover = action.on));
      break;
    case 'set-notifications':
      await ctx.store.update((d) => void (d.settings.notifications = action.on));
      break;
    case 'backup-now':
      await createBackup(ctx, { reason: 'manual' });
      break;
    case 'open':
      return host.openView(action.view, action.query);
    case 'language':
      host.setLanguage(action.language);
      break;
    case 'launch-at-login':
      host.setLaunchAtLogin(action.on);
      break;
    case 'quit':
      return host.quit();
  }
  host.refresh();
}

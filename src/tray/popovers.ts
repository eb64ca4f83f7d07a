/**
 * The popover window: created by menubar (`show: false`, `frame: false`,
 * hidden on blur), locked down here, and pointed at the gateway's pages.
 */
import { ipcMain, shell, type WebContents } from 'electron';
import type { Menubar } from 'menubar';
import type { Locale } from '../i18n/i18n.js';
import { IPC } from './ipc.js';
import type { View } from './menu-model.js';
import type { TrayCore } from './tray-core.js';
import { opensExternally, popoverUrl } from './window-policy.js';

export interface Popovers {
  open(view: View, query?: Record<string, string>): Promise<void>;
}

export function setupPopovers(mb: Menubar, core: TrayCore, locale: () => Locale): Popovers {
  const origin = core.running?.gateway.url;
  // 'before-load': menubar creates the window, then loads it; the rules must be in place first.
  mb.on('before-load', () => lockDown(mb.window!.webContents));
  ipcMain.on(IPC.hidePopover, (event) => {
    if (event.sender === mb.window?.webContents) mb.hideWindow();
  });

  return {
    async open(view, query) {
      const running = core.running;
      if (!origin || !running) return; // the menu says why the gateway is not running
      const current = mb.window?.webContents.getURL() ?? '';
      const url = popoverUrl({ origin, current, view, lang: locale(), query, loginUrl: () => running.admin.loginUrl() });
      if (mb.window) await mb.window.loadURL(url);
      else mb.setOption('index', url);
      await mb.showWindow();
    },
  };
}

/** No navigation, no new windows, no webviews, no permissions: the page is the gateway's and nothing else. */
function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (opensExternally(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
}

/**
 * AI Gate's tray app (Electron main process): a boot list. Everything it
 * decides is in modules tested under Node — the gateway (`launchGateway`, as
 * `aigate serve` runs it), the menu model, notification texts and limits,
 * tray actions; this file and its setup modules only wire them to Electron.
 */
import { fileURLToPath } from 'node:url';
import { app, session } from 'electron';
import { parseListen } from '../proxy/listen-address.js';
import { resolveLocale, type Locale } from '../i18n/i18n.js';
import { setupNotifications } from './os-notifications.js';
import { setupPopovers } from './popovers.js';
import { openPrefs } from './prefs.js';
import { assetsDir, setupTray } from './tray.js';
import { performAction } from './tray-actions.js';
import { startCore, trayState, type TrayCore } from './tray-core.js';

// A second launch focuses the first: it opens the Accounts popover there.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.dock?.hide();
  app.setAppUserModelId('dev.aigate.app');
  // No window is the normal state of a tray app.
  app.on('window-all-closed', () => undefined);
  await app.whenReady();
  await boot();
}

async function boot(): Promise<void> {
  const core = await setupGateway();
  const prefs = openPrefs(core.ctx.paths.home);
  const locale = (): Locale => resolveLocale(prefs.get('language'), app.getPreferredSystemLanguages());
  const loginItems = process.platform === 'darwin' || process.platform === 'win32';

  const tray = setupTray({
    assets: assetsDir(app.getAppPath()),
    preload: fileURLToPath(new URL('./preload.cjs', import.meta.url)),
    state: () =>
      trayState(core, {
        language: prefs.get('language'),
        systemLocales: app.getPreferredSystemLanguages(),
        launchAtLogin: loginItems ? app.getLoginItemSettings().openAtLogin : undefined,
        now: Date.now(),
      }),
    onAction: (action) =>
      void performAction(action, core, {
        openView: (view, query) => void popovers.open(view, query),
        setLanguage: (language) => prefs.set('language', language),
        setLaunchAtLogin: (on) => app.setLoginItemSettings({ openAtLogin: on }),
        quit: () => app.quit(),
        refresh: () => tray.redraw(),
      }).catch((err: Error) => console.error(`aigate: ${action.kind}: ${err.message}`)),
  });
  const popovers = setupPopovers(tray.mb, core, locale);
  setupNotifications(core, locale, () => void popovers.open('accounts'));
  setupRedraws(core, tray.redraw);
  app.on('second-instance', () => void popovers.open('accounts'));
  setupQuit(core);
}

/** The gateway in this process, or (when its port is taken) the state alone, with the reason shown in the menu. */
async function setupGateway(): Promise<TrayCore> {
  // `upstreamProxy: system` means the OS proxy settings here (PAC and WPAD included), through Chromium.
  const systemProxy = (url: string) => session.defaultSession.resolveProxy(url);
  const core = await startCore({ address: parseListen(process.env.AIGATE_LISTEN), env: process.env, systemProxy });
  if (core.gatewayError) console.error(`aigate: the gateway did not start: ${core.gatewayError}`);
  return core;
}

/** The menu follows the gateway's events and changes made by the CLI or the popovers (through the store). */
function setupRedraws(core: TrayCore, redraw: () => void): void {
  const bus = core.bus;
  if (!bus) return;
  for (const event of ['failover', 'account-state', 'exhausted', 'accounts-changed'] as const) bus.on(event, redraw);
}

/** Quitting drains in-flight Codex streams (up to 5 s) before the process ends. */
function setupQuit(core: TrayCore): void {
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    void core.close().finally(() => app.exit(0));
  });
}

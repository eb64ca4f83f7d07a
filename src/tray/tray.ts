/**
 * The tray icon and its menu: `buildMenu` (pure, tested) turned into an
 * Electron Menu, redrawn when the gateway reports a change and every half
 * minute (reset times move on).
 */
import path from 'node:path';
import { Menu, nativeImage, Tray } from 'electron';
import { menubar, type Menubar } from 'menubar';
import { translator, type Locale } from '../i18n/i18n.js';
import { appIconFile, trayIconFile } from './icons.js';
import { buildMenu, trayLook, type TrayAction, type TrayState } from './menu-model.js';
import { template } from './menu-template.js';

const POPOVER = { width: 380, height: 560 };
const REDRAW_MS = 30_000;

export interface TrayOptions {
  assets: string;
  preload: string;
  /** A fresh snapshot of everything the menu shows. */
  state(): Promise<TrayState>;
  onAction(action: TrayAction): void;
}

export interface TrayHandle {
  mb: Menubar;
  redraw(): void;
  locale(): Locale;
}

export function setupTray(options: TrayOptions): TrayHandle {
  const tray = new Tray(nativeImage.createFromPath(trayIconFile(options.assets, 'off', process.platform)));
  const mb = menubar({
    tray,
    index: false,
    showDockIcon: false,
    preloadWindow: false,
    tooltip: 'AI Gate',
    browserWindow: {
      ...POPOVER,
      show: false,
      frame: false,
      resizable: false,
      fullscreenable: false,
      skipTaskbar: true,
      icon: appIconFile(options.assets),
      webPreferences: { preload: options.preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false, spellcheck: false },
    },
  });
  let locale: Locale = 'en';
  let pending: Promise<void> | undefined;
  let again = false;

  const draw = async () => {
    const state = await options.state();
    locale = state.locale;
    const t = translator(state.locale);
    const look = trayLook(state, t);
    tray.setImage(nativeImage.createFromPath(trayIconFile(options.assets, look.icon, process.platform)));
    tray.setToolTip(look.tooltip);
    tray.setContextMenu(Menu.buildFromTemplate(template(buildMenu(state, t), options.onAction)));
  };
  // One redraw at a time; a request during one makes exactly one more.
  const redraw = () => {
    if (pending) {
      again = true;
      return;
    }
    pending = draw()
      .catch((err: Error) => console.error(`aigate: could not draw the tray menu: ${err.message}`))
      .finally(() => {
        pending = undefined;
        if (again) {
          again = false;
          redraw();
        }
      });
  };

  mb.on('ready', () => {
    // menubar toggles its window on clicks; here a click opens the menu (macOS, Linux) and on
    // Windows, where the menu is on the right button, the left one opens Accounts.
    for (const event of ['click', 'right-click', 'double-click'] as const) tray.removeAllListeners(event);
    if (process.platform === 'win32') tray.on('click', () => options.onAction({ kind: 'open', view: 'accounts' }));
    redraw();
    setInterval(redraw, REDRAW_MS).unref();
  });
  return { mb, redraw, locale: () => locale };
}

export const assetsDir = (appPath: string) => path.join(appPath, 'assets');

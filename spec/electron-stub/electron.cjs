// A stand-in for Electron's main-process API, so spec/tray-boot.test.ts can run the built tray
// (dist/tray/main.js) under plain Node: the Electron binary is not installed on CI machines.
// It logs what the tray does as `STUB {json}` lines on stdout and takes commands on stdin
// (`click <menu item id>`, `quit`). Only what AI Gate, menubar, electron-positioner and
// electron-store touch is here.
/* global require, exports */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS module, because menubar require()s electron */
const { EventEmitter } = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const log = (event, data = {}) => process.stdout.write(`STUB ${JSON.stringify({ event, ...data })}\n`);
const workArea = { x: 0, y: 0, width: 1440, height: 900 };
let lastMenu;

class App extends EventEmitter {
  constructor() {
    super();
    this.dock = { hide: () => log('dock-hide') };
  }
  requestSingleInstanceLock() { return true; }
  whenReady() { return Promise.resolve(); }
  isReady() { return true; }
  setAppUserModelId() {}
  getPreferredSystemLanguages() { return (process.env.STUB_LANGUAGES || 'en-US').split(','); }
  getAppPath() { return process.cwd(); }
  getPath() { return path.join(os.tmpdir(), 'aigate-electron-stub'); }
  getVersion() { return '0.0.0'; }
  getLoginItemSettings() { return { openAtLogin: false }; }
  setLoginItemSettings(settings) { log('login-item', settings); }
  quit() {
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) this.exit(0);
  }
  exit(code) {
    log('exit', { code });
    process.exit(code);
  }
}
const app = new App();

class Tray extends EventEmitter {
  constructor(image) {
    super();
    log('tray', { image: image.path });
  }
  setImage(image) { log('tray-image', { image: image.path, exists: fs.existsSync(image.path) }); }
  setToolTip(text) { log('tooltip', { text }); }
  setContextMenu(menu) {
    lastMenu = menu;
    const labels = (items) => items.map((i) => (i.submenu ? { id: i.id, label: i.label, submenu: labels(i.submenu) } : { id: i.id, label: i.label, checked: i.checked }));
    log('menu', { items: labels(menu.template) });
  }
  getBounds() { return { x: 0, y: 0, width: 0, height: 0 }; }
}

class WebContents extends EventEmitter {
  constructor() {
    super();
    this.url = '';
    this.session = { setPermissionRequestHandler: () => log('permissions-locked') };
  }
  getURL() { return this.url; }
  setWindowOpenHandler(handler) { this.openHandler = handler; log('open-handler'); }
}

class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.webContents = new WebContents();
    log('window', { show: options.show, frame: options.frame, width: options.width, webPreferences: options.webPreferences, preloadExists: fs.existsSync(options.webPreferences.preload) });
  }
  async loadURL(url) {
    this.webContents.url = url;
    log('load', { url, navigationGuard: this.webContents.listenerCount('will-navigate') });
  }
  show() { log('show'); }
  hide() { log('hide'); }
  setPosition() {}
  getBounds() { return { x: 0, y: 0, width: 380, height: 560 }; }
  getSize() { return [380, 560]; }
  isAlwaysOnTop() { return false; }
  setVisibleOnAllWorkspaces() {}
}

class Notification extends EventEmitter {
  static isSupported() { return true; }
  constructor(options) { super(); this.options = options; }
  show() { log('notification', this.options); }
}

function findItem(items, id) {
  for (const item of items) {
    if (item.id === id) return item;
    const inner = item.submenu && findItem(item.submenu, id);
    if (inner) return inner;
  }
  return undefined;
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === 'quit') app.quit();
  if (command === 'click') {
    const item = lastMenu && findItem(lastMenu.template, arg);
    if (item?.click) item.click();
    else log('no-such-item', { id: arg });
  }
});

exports.app = app;
exports.Tray = Tray;
exports.BrowserWindow = BrowserWindow;
exports.Notification = Notification;
exports.Menu = { buildFromTemplate: (template) => ({ template }) };
exports.nativeImage = { createFromPath: (p) => ({ path: p }) };
exports.screen = {
  getDisplayMatching: () => ({ workArea, bounds: workArea }),
  getDisplayNearestPoint: () => ({ workArea, bounds: workArea }),
  getCursorScreenPoint: () => ({ x: 0, y: 0 }),
};
exports.ipcMain = new EventEmitter();
// Chromium's proxy resolution, as a machine without proxy settings answers.
exports.session = { defaultSession: { resolveProxy: async () => 'DIRECT' } };
exports.shell = { openExternal: async (url) => log('open-external', { url }) };

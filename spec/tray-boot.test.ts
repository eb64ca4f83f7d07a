/**
 * Runs the built tray (dist/tray/main.js) under Node with spec/electron-stub
 * standing in for Electron, whose binary CI machines do not have: the boot
 * list starts the real gateway, draws the menu, opens a locked-down popover
 * through a real login link, and quitting stops the gateway.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { describe, it } from 'node:test';
import { ensureBuilt, ROOT, tempHome } from './_helpers.js';

/** One `STUB {json}` line from spec/electron-stub/electron.cjs. */
interface StubEvent {
  event: string;
  items?: { label?: string }[];
  image?: string;
  exists?: boolean;
  show?: boolean;
  frame?: boolean;
  webPreferences?: { contextIsolation?: boolean; sandbox?: boolean; nodeIntegration?: boolean };
  preloadExists?: boolean;
  url?: string;
  navigationGuard?: number;
}

/** The tray as a child process: its stub events as they come, and a way to send commands. */
function startTray(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', './spec/electron-stub/register.mjs', 'dist/tray/main.js'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const events: StubEvent[] = [];
  const waiters: { test: (e: StubEvent) => boolean; resolve: (e: StubEvent) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('STUB ')) return;
    const event = JSON.parse(line.slice(5)) as StubEvent;
    events.push(event);
    for (const w of [...waiters]) {
      if (!w.test(event)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(event);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    events,
    stderr: () => stderr,
    exited,
    send: (command: string) => child.stdin.write(`${command}\n`),
    /** The next event (or one already seen since `from`) that passes `test`. */
    next(test: (e: StubEvent) => boolean, from = 0): Promise<StubEvent> {
      const seen = events.slice(from).find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ test, resolve });
        void exited.then((code) => reject(new Error(`the tray exited (${code}) first:\n${stderr}`)));
      });
    },
    kill: () => child.kill(),
  };
}

describe('the tray app under a stand-in Electron', () => {
  it('starts the gateway, draws the menu, opens a popover through a login link and quits cleanly', async () => {
    await ensureBuilt();
    const home = await tempHome();
    const tray = startTray({ ...home.env, AIGATE_LISTEN: '127.0.0.1:0', STUB_LANGUAGES: 'zh-CN,en-US' });
    try {
      const menu = await tray.next((e) => e.event === 'menu');
      const labels = menu.items!.map((i) => i.label).filter(Boolean);
      assert.ok(labels.includes('退出 AI Gate'), `the menu follows the OS language: ${labels.join(' | ')}`);
      assert.ok(labels.includes('还没有账号 — 添加一个…'));
      const image = tray.events.find((e) => e.event === 'tray-image')!;
      assert.equal(image.exists, true, `${image.image} is missing`);
      assert.ok(tray.events.some((e) => e.event === 'dock-hide'));

      const mark = tray.events.length;
      tray.send('click open-stats');
      const window = await tray.next((e) => e.event === 'window', mark);
      assert.deepEqual([window.show, window.frame, window.webPreferences?.contextIsolation, window.webPreferences?.sandbox, window.webPreferences?.nodeIntegration], [false, false, true, true, false]);
      assert.equal(window.preloadExists, true);
      const load = await tray.next((e) => e.event === 'load', mark);
      // Navigation is locked before anything loads.
      assert.equal(load.navigationGuard, 1);
      assert.ok(tray.events.slice(mark).some((e) => e.event === 'open-handler'));
      const url = new URL(load.url!);
      assert.equal(url.pathname, '/aigate/login');
      assert.equal(url.hash, '#view=stats&lang=zh-CN');
      // The link is a real one from the gateway this process runs.
      const login = await fetch(url, { redirect: 'manual' });
      assert.equal(login.status, 303);
      assert.match(login.headers.get('set-cookie') ?? '', /aigate_session=.*httponly/i);

      tray.send('quit');
      assert.equal(await tray.exited, 0, tray.stderr());
      await assert.rejects(fetch(`${url.origin}/aigate/api/status`), 'the gateway stopped with the app');
      assert.equal(JSON.parse(await fs.readFile(path.join(home.paths.home, 'ui-prefs.json'), 'utf8')).language, 'system');
    } finally {
      tray.kill();
    }
  });
});

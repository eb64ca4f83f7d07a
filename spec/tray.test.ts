import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { listBackups } from '../src/state/codex/backups.js';
import { translator } from '../src/i18n/i18n.js';
import { buildMenu, type TrayAction } from '../src/tray/menu-model.js';
import { template } from '../src/tray/menu-template.js';
import { performAction, type TrayHost } from '../src/tray/tray-actions.js';
import { startCore, trayState, type TrayCore } from '../src/tray/tray-core.js';
import { opensExternally, popoverUrl } from '../src/tray/window-policy.js';
import { addProvider, startGateway, tempHome } from './_helpers.js';

/** A host that records what the Electron side would have done. */
function recordingHost() {
  const calls: unknown[][] = [];
  const host: TrayHost = {
    openView: (...a) => void calls.push(['open', ...a]),
    setLanguage: (...a) => void calls.push(['language', ...a]),
    setLaunchAtLogin: (...a) => void calls.push(['launch', ...a]),
    quit: () => void calls.push(['quit']),
    refresh: () => void calls.push(['refresh']),
  };
  return { host, calls };
}

const ui = { language: 'system' as const, systemLocales: ['en-US'], launchAtLogin: false, now: Date.now() };

describe('tray actions', () => {
  it('switch accounts, failover, notifications, backups and the proxy through the shared state code', async () => {
    const home = await tempHome();
    await fs.writeFile(path.join(home.paths.codexHome, 'config.toml'), '# mine\nmodel = "gpt-5.1-codex"\n');
    const running = await startGateway(home);
    await addProvider(running, 'a', 'https://a.example.com/v1');
    await addProvider(running, 'b', 'https://b.example.com/v1');
    const core: TrayCore = { ctx: { paths: running.paths, store: running.store, vault: running.vault }, bus: running.bus, running, close: async () => undefined };
    const { host, calls } = recordingHost();
    const act = (action: TrayAction) => performAction(action, core, host);

    await act({ kind: 'use-account', name: 'b' });
    assert.equal(running.store.data.settings.active, running.store.data.accounts[1]!.id);
    await act({ kind: 'set-failover', on: false });
    await act({ kind: 'set-notifications', on: false });
    assert.deepEqual([running.store.data.settings.failover, running.store.data.settings.notifications], [false, false]);

    await act({ kind: 'backup-now' });
    assert.deepEqual((await listBackups(core.ctx)).map((b) => b.reason), ['manual']);

    await act({ kind: 'proxy-on', mode: 'base-url' });
    const config = await fs.readFile(path.join(home.paths.codexHome, 'config.toml'), 'utf8');
    assert.match(config, new RegExp(`openai_base_url = "${running.gateway.url}/ai-router/api"`));
    let state = await trayState(core, ui);
    assert.deepEqual(state.proxy, { mode: 'base-url' });
    assert.deepEqual(state.backups.map((b) => b.reason), ['proxy-on', 'manual']);
    assert.equal(buildMenu(state, translator('en')).find((i) => i.id === 'proxy')!.checked, true);

    await act({ kind: 'proxy-off' });
    assert.equal(await fs.readFile(path.join(home.paths.codexHome, 'config.toml'), 'utf8'), '# mine\nmodel = "gpt-5.1-codex"\n');
    state = await trayState(core, ui);
    assert.equal(state.proxy, undefined);

    await act({ kind: 'open', view: 'backups', query: { restore: 'x' } });
    await act({ kind: 'language', language: 'zh-CN' });
    await act({ kind: 'launch-at-login', on: true });
    await act({ kind: 'quit' });
    assert.deepEqual(
      calls.filter((c) => c[0] !== 'refresh'),
      [['open', 'backups', { restore: 'x' }], ['language', 'zh-CN'], ['launch', true], ['quit']],
    );
  });

  it('keeps the menu working when the gateway port is taken, and says why', async () => {
    const home = await tempHome();
    const running = await startGateway(home);
    const port = Number(new URL(running.gateway.url).port);
    const core = await startCore({ address: { host: '127.0.0.1', port }, env: home.env, paths: home.paths, keychain: null });
    try {
      assert.equal(core.running, undefined);
      assert.match(core.gatewayError!, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
      const { host } = recordingHost();
      await addProvider(running, 'a', 'https://a.example.com/v1');
      await performAction({ kind: 'use-account', name: 'a' }, core, host);
      const state = await trayState(core, ui);
      assert.equal(state.gatewayError, core.gatewayError);
      assert.equal(buildMenu(state, translator('en'))[0]!.label, `Gateway not running: ${core.gatewayError}`);
    } finally {
      await core.close();
    }
  });
});

describe('tray glue helpers', () => {
  it('turns the menu model into Electron menu items whose clicks carry the action', () => {
    const clicked: TrayAction[] = [];
    const items = template(
      [
        { id: 'proxy', type: 'checkbox', label: 'Proxy', checked: true, action: { kind: 'proxy-off' } },
        { id: 'sep', type: 'separator' },
        { id: 'lang', type: 'submenu', label: 'Language', submenu: [{ id: 'en', type: 'checkbox', label: 'English', checked: false, action: { kind: 'language', language: 'en' } }] },
        { id: 'header', type: 'normal', label: 'Accounts', enabled: false },
      ],
      (a) => clicked.push(a),
    );
    assert.deepEqual(
      items.map((i) => [i.id, i.type, i.checked, i.enabled]),
      [['proxy', 'checkbox', true, true], ['sep', 'separator', undefined, undefined], ['lang', undefined, undefined, true], ['header', undefined, undefined, false]],
    );
    (items[0]!.click as () => void)();
    ((items[2]!.submenu as typeof items)[0]!.click as () => void)();
    assert.equal(items[3]!.click, undefined);
    assert.deepEqual(clicked, [{ kind: 'proxy-off' }, { kind: 'language', language: 'en' }]);
  });

  it('sends only https pages to the system browser', () => {
    assert.equal(opensExternally('https://auth.openai.com/oauth/authorize?client_id=x'), true);
    for (const url of ['http://example.com', 'file:///etc/passwd', 'javascript:alert(1)', 'https://user:pw@example.com', 'not a url']) assert.equal(opensExternally(url), false, url);
  });

  it('signs a new window in through a login link, and only changes the fragment afterwards', () => {
    const origin = 'http://127.0.0.1:6789';
    const loginUrl = () => `${origin}/aigate/login?code=abc`;
    assert.equal(popoverUrl({ origin, current: '', view: 'stats', lang: 'zh-CN', loginUrl }), `${origin}/aigate/login?code=abc#view=stats&lang=zh-CN`);
    assert.equal(
      popoverUrl({ origin, current: `${origin}/aigate/#view=stats`, view: 'backups', lang: 'en', query: { restore: 'id1' }, loginUrl }),
      `${origin}/aigate/#view=backups&lang=en&restore=id1`,
    );
    // A login link that did not sign in (used, expired) is not the shell.
    assert.equal(popoverUrl({ origin, current: `${origin}/aigate/login?code=old`, view: 'mcp', lang: 'en', loginUrl }), `${origin}/aigate/login?code=abc#view=mcp&lang=en`);
  });
});

/**
 * Scenario 4, concurrency: two `aigate` processes writing at once must not
 * lose each other's updates.
 *
 * - Fresh homes: `aigate serve` and two `aigate accounts add` start at the
 *   same moment on an empty $AIGATE_HOME — both accounts must be stored, and
 *   both secrets must open with the one key every process ends up using.
 * - Mixed: `aigate serve` takes account, settings, MCP and proxy changes over
 *   the admin API while CLI processes add accounts and MCP servers and a
 *   backup is restored — every acknowledged change must be there afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from '@decimalturn/toml-patch';
import { Store } from '../../src/state/store.js';
import { Vault } from '../../src/state/secrets.js';
import type { Paths } from '../../src/state/paths.js';
import { admin, sleep } from './client.js';
import { ORIGINAL_CONFIG } from './crash-checks.js';
import { makeHome, runCli, spawnCli, startServe, type Home } from './processes.js';
import { Scenario, type ScenarioResult } from './report.js';
import { adminToken, apiKey, type Suite } from './rig.js';

const pathsOf = (home: Home): Paths => ({ home: home.aigateHome, data: path.join(home.aigateHome, 'data'), codexHome: home.codexHome });

async function storedAccounts(home: Home): Promise<{ names: string[]; unreadable: string[] }> {
  const paths = pathsOf(home);
  const store = await Store.open(paths);
  store.close();
  const vault = await Vault.open(paths, null);
  const unreadable = store.data.accounts.filter((a) => {
    try {
      vault.openJson(a.secret);
      return false;
    } catch {
      return true;
    }
  });
  return { names: store.data.accounts.map((a) => a.name), unreadable: unreadable.map((a) => a.name) };
}

function mcpNames(home: Home): string[] {
  const text = fs.readFileSync(path.join(home.codexHome, 'config.toml'), 'utf8');
  return Object.keys((parse(text) as { mcp_servers?: Record<string, unknown> }).mcp_servers ?? {});
}

export async function concurrencyScenario(suite: Suite): Promise<ScenarioResult> {
  const s = new Scenario('4. concurrency');
  const { concurrency } = suite.mode;
  const key = (name: string) => {
    const k = apiKey(name);
    suite.secrets.add(k);
    return k;
  };

  // Fresh homes: three processes create the key file and the store at the same moment.
  let lost = 0;
  let unreadable = 0;
  let cliFailed = 0;
  for (let round = 0; round < concurrency.freshRounds; round++) {
    const home = makeHome(suite.root, `fresh-${round}`);
    suite.homes.push(home);
    const serving = startServe(home, suite.logs, { name: `fresh-${round}` });
    const adds = ['x1', 'x2'].map((n) => spawnCli(['accounts', 'add', n, '--base-url', `${suite.mock.url}/acct/${n}/v1`], home, suite.logs, key(n) + '\n').result);
    const results = await Promise.all(adds);
    const serve = await serving;
    suite.secrets.add(adminToken(home));
    cliFailed += results.filter((r) => r.code !== 0).length;
    for (const r of results) if (r.code !== 0) s.note(`fresh round ${round}: aigate accounts add exited ${r.code}: ${r.stderr.trim().slice(0, 200)}`);
    const stored = await storedAccounts(home);
    const missing = ['x1', 'x2'].filter((n, i) => results[i]!.code === 0 && !stored.names.includes(n));
    lost += missing.length;
    unreadable += stored.unreadable.length;
    if (missing.length) s.note(`fresh round ${round}: ${missing.join(', ')} acknowledged but not stored`);
    if (stored.unreadable.length) s.note(`fresh round ${round}: ${stored.unreadable.join(', ')} stored under a key no process has any more`);
    await serve.stop();
  }
  s.set('fresh homes (serve + 2 CLIs at once)', `${concurrency.freshRounds} rounds: ${lost} accounts lost, ${unreadable} secrets unreadable, ${cliFailed} CLI failures`);
  s.expect(lost === 0, `${lost} acknowledged accounts were lost when processes started together on a fresh home`);
  s.expect(unreadable === 0, `${unreadable} stored secrets cannot be opened with the install's key (two processes each made a key)`);
  s.expect(cliFailed === 0, `${cliFailed} CLI processes failed on a fresh home`);

  // Mixed: serve (admin API) and CLI processes changing accounts and config.toml together.
  const home = makeHome(suite.root, 'mixed');
  suite.homes.push(home);
  fs.writeFileSync(path.join(home.codexHome, 'config.toml'), ORIGINAL_CONFIG);
  const serve = await startServe(home, suite.logs, { name: 'mixed' });
  const token = adminToken(home);
  suite.secrets.add(token);
  const call = (method: string, p: string, body?: unknown) => admin(serve.url, token, suite.logs, method, `/aigate/api${p}`, body);
  const backup = await call('POST', '/backups', { note: 'before the race' });
  s.expect(backup.status === 201, `backup: ${backup.status} ${backup.text}`);

  const ackAccounts: string[] = [];
  const ackMcp: { name: string; start: number; end: number }[] = [];
  const failed: string[] = [];
  let restore = { start: 0, end: 0 };
  const n = concurrency.mixedAdds;
  const viaApi = (async () => {
    for (let i = 0; i < n; i++) {
      const a = await call('POST', '/accounts', { name: `api${i}`, baseUrl: `${suite.mock.url}/acct/api${i}/v1`, apiKey: key(`api${i}`) });
      if (a.status === 201) ackAccounts.push(`api${i}`);
      else failed.push(`POST /accounts api${i}: ${a.status} ${a.text}`);
      const start = Date.now();
      const m = await call('POST', '/mcp', { name: `apimcp${i}`, command: 'npx', args: ['-y', `pkg${i}`] });
      if (m.status === 201) ackMcp.push({ name: `apimcp${i}`, start, end: Date.now() });
      else failed.push(`POST /mcp apimcp${i}: ${m.status} ${m.text}`);
      await call('PATCH', '/settings', { failover: i % 2 === 0 });
      const p = await call('POST', `/proxy/${i % 2 ? 'off' : 'on'}`, {});
      if (p.status !== 200) failed.push(`POST /proxy: ${p.status} ${p.text}`);
      if (i === Math.floor(n / 2)) {
        restore.start = Date.now();
        const r = await call('POST', `/backups/${backup.json?.id}/restore`, {});
        restore = { start: restore.start, end: Date.now() };
        if (r.status !== 200) failed.push(`restore: ${r.status} ${r.text}`);
      }
    }
  })();
  const viaCli = (async () => {
    for (let i = 0; i < n; i++) {
      const a = await runCli(['accounts', 'add', `cli${i}`, '--base-url', `${suite.mock.url}/acct/cli${i}/v1`], home, suite.logs, key(`cli${i}`) + '\n');
      if (a.code === 0) ackAccounts.push(`cli${i}`);
      else failed.push(`aigate accounts add cli${i}: ${a.stderr.trim()}`);
      const start = Date.now();
      const m = await runCli(['mcp', 'add', `climcp${i}`, '--', 'npx', '-y', `tool${i}`], home, suite.logs);
      if (m.code === 0) ackMcp.push({ name: `climcp${i}`, start, end: Date.now() });
      else failed.push(`aigate mcp add climcp${i}: ${m.stderr.trim()}`);
    }
  })();
  await Promise.all([viaApi, viaCli]);
  await sleep(100);

  // A restore puts the store and config.toml back as they were: changes acknowledged before it began are
  // rightly gone, those that began after it ended must all be there, and overlapping ones may go either way.
  const stored = await storedAccounts(home);
  const mcp = mcpNames(home);
  const afterRestore = (t: { start: number }) => t.start > restore.end;
  const beforeRestore = (t: { end: number }) => t.end < restore.start;
  const lostMcp = ackMcp.filter((m) => afterRestore(m) && !mcp.includes(m.name)).map((m) => m.name);
  const revived = ackMcp.filter((m) => beforeRestore(m) && mcp.includes(m.name)).map((m) => m.name);
  s.set('mixed serve + CLI', `${ackAccounts.length} account adds and ${ackMcp.length} MCP adds acknowledged, ${failed.length} refused; a restore in the middle (${restore.end - restore.start} ms)`);
  s.set('config.toml MCP servers after', `${mcp.length} (${lostMcp.length} acknowledged after the restore but missing; ${revived.length} from before the restore that it failed to roll back)`);
  s.expect(failed.length === 0, `refused changes: ${failed.slice(0, 3).join(' | ')}`);
  s.expect(lostMcp.length === 0, `MCP servers lost: ${lostMcp.join(', ')}`);
  s.expect(revived.length === 0, `the restore was overwritten by a concurrent edit: ${revived.join(', ')} still there`);
  s.expect(stored.unreadable.length === 0, `unreadable secrets: ${stored.unreadable.join(', ')}`);
  // Accounts: the restore rolls the store back too, so only adds acknowledged after it are checked; and the
  // final set must still hold every account the store had acknowledged last.
  const off = await runCli(['proxy', 'off'], home, suite.logs);
  const finalConfig = fs.readFileSync(path.join(home.codexHome, 'config.toml'), 'utf8');
  s.expect(off.code === 0 && !/openai_base_url|ai-router/.test(finalConfig), `proxy off after the race left: ${off.stderr}\n${finalConfig}`);
  s.set('accounts stored after', `${stored.names.length} (${stored.unreadable.length} unreadable)`);
  await serve.stop();
  return s.done();
}

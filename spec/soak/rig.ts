/**
 * The gateway under test for the load and upstream-fault scenarios: one
 * `aigate serve` (with the heap probe) whose third-party accounts all point at
 * the soak mock, plus everything the scenarios share — logs, the secrets they
 * created (for the final scan) and the homes AI Gate wrote into.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SoakMode } from './mode.js';
import { makeHome, runCli, startServe, type Home, type Logs, type Mock, type Serve } from './processes.js';

export interface Suite {
  mode: SoakMode;
  logs: Logs;
  /** Temp folder holding every home of the run. */
  root: string;
  mock: Mock;
  /** Every secret the run created: none may appear in plaintext in a file, a log line or an answer. */
  secrets: Set<string>;
  /** Every home AI Gate wrote into (the scan reads them all). */
  homes: Home[];
}

export interface Rig {
  home: Home;
  serve: Serve;
  token: string;
  /** Healthy accounts, in failover order. */
  accounts: string[];
  keys: Record<string, string>;
}

export const apiKey = (name: string) => `sk-soak-${name}-${crypto.randomBytes(12).toString('hex')}`;

/** Adds a third-party account through the CLI (the key on stdin, as a user would). */
export async function addAccount(suite: Suite, home: Home, name: string, baseUrl: string, key = apiKey(name)): Promise<string> {
  suite.secrets.add(key);
  const r = await runCli(['accounts', 'add', name, '--base-url', baseUrl], home, suite.logs, key + '\n');
  if (r.code !== 0) throw new Error(`aigate accounts add ${name} failed (${r.code}): ${r.stderr}`);
  return key;
}

/**
 * Upstream-proxy passwords for the secrets scan to look for: one in the setting, one on an account.
 * The mock is on loopback, which is never proxied, so the traffic itself is unchanged.
 */
async function setProxyPasswords(suite: Suite, home: Home, account: string | undefined): Promise<void> {
  const calls = [['settings', 'set', 'upstreamProxy'], ...(account ? [['accounts', 'set', account, '--upstream-proxy']] : [])];
  for (const args of calls) {
    const password = `px-${crypto.randomBytes(12).toString('hex')}`;
    suite.secrets.add(password);
    const r = await runCli([...args, `http://soak:${password}@127.0.0.1:9`], home, suite.logs);
    if (r.code !== 0) throw new Error(`aigate ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  }
}

export const adminToken = (home: Home) => fs.readFileSync(path.join(home.aigateHome, 'data', 'admin-token'), 'utf8').trim();

/** A home with `names` as third-party accounts on the mock, and `aigate serve` running on it. */
export async function startRig(suite: Suite, name: string, names: string[], env: NodeJS.ProcessEnv = {}): Promise<Rig> {
  const home = makeHome(suite.root, name, env);
  suite.homes.push(home);
  const keys: Record<string, string> = {};
  for (const n of names) keys[n] = await addAccount(suite, home, n, `${suite.mock.url}/acct/${n}/v1`);
  suite.mock.setKeys(keys);
  await setProxyPasswords(suite, home, names[0]);
  const serve = await startServe(home, suite.logs, { name: `serve-${name}`, probe: true });
  const token = adminToken(home);
  suite.secrets.add(token);
  return { home, serve, token, accounts: names, keys };
}

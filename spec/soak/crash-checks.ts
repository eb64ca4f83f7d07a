/** What the kill -9 rounds count, and the checks and probes they run between kills. */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Paths } from '../../src/state/paths.js';
import { Vault } from '../../src/state/secrets.js';
import type { MockAuth } from '../mock-auth.js';
import { sleep } from './client.js';
import { startServe, type Home } from './processes.js';
import type { Suite } from './rig.js';

export const ORIGINAL_CONFIG = `# Codex config the user wrote by hand
model = "gpt-5.1-codex"   # keep this comment

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp"]
`;

export const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

export interface Tally {
  rounds: number;
  byTrigger: Record<string, number>;
  storeLoads: number;
  accountsLost: number;
  accountsResurrected: number;
  tokenLive: number;
  /** The kill landed after the auth server rotated the token and before AI Gate's store write. */
  tokenWindow: number;
  tokenOther: number;
  authJsonWhole: number;
  /** auth.json still held the token before the last rotation (killed between the store write and auth.json's). */
  authJsonBehind: number;
  /** ...and the next `aigate serve` brought it up to date. */
  authJsonRepaired: number;
  configWhole: number;
  configOther: number;
  statsLines: number;
  statsBad: number;
  locksLeft: number;
  /** Temp files a kill left that the next start did not remove (over all rounds). */
  tempFilesLeft: number;
  /** What the next start made of a refresh token lost in the window (checked once). */
  spentToken?: string;
  spentRounds: number;
  unexpectedAnswers: string[];
  lockWaits: string[];
  cliKilled: number;
  serveStartFailures: string[];
}

export function newTally(): Tally {
  return {
    rounds: 0,
    byTrigger: {},
    storeLoads: 0,
    accountsLost: 0,
    accountsResurrected: 0,
    tokenLive: 0,
    tokenWindow: 0,
    tokenOther: 0,
    authJsonWhole: 0,
    authJsonBehind: 0,
    authJsonRepaired: 0,
    configWhole: 0,
    configOther: 0,
    statsLines: 0,
    statsBad: 0,
    locksLeft: 0,
    tempFilesLeft: 0,
    spentRounds: 0,
    unexpectedAnswers: [],
    lockWaits: [],
    cliKilled: 0,
    serveStartFailures: [],
  };
}

export const TRIGGERS = ['refresh', 'store-write', 'stats', 'cli', 'random'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** Waits for the moment a round's kill is aimed at. */
export async function killMoment(trigger: Trigger, at: { auth: MockAuth; wrote: Promise<void>; trafficStarted: Promise<void>; cliStarted: number }): Promise<void> {
  const { auth, wrote, trafficStarted, cliStarted } = at;
  switch (trigger) {
      case 'refresh':
        await Promise.race([new Promise<void>((r) => (auth.onRefresh = () => r())), sleep(3_000)]);
        auth.onRefresh = undefined;
        await sleep(rand(0, 12));
        break;
      case 'store-write':
        await sleep(rand(50, 400));
        await wrote;
        await sleep(rand(0, 8));
        break;
      case 'stats':
        await trafficStarted;
        await sleep(rand(990, 1_060));
        break;
      case 'cli':
        await sleep(Math.max(0, cliStarted + rand(150, 550) - Date.now()));
        break;
      case 'random':
        await sleep(rand(50, 1_500));
        break;
    }
}

export function pathsOf(home: Home): Paths {
  return { home: home.aigateHome, data: path.join(home.aigateHome, 'data'), codexHome: home.codexHome };
}

export function readRefreshToken(vault: Vault, data: { accounts: { kind: string; secret: string }[] }): string | undefined {
  const official = data.accounts.find((a) => a.kind === 'official');
  return official ? (vault.openJson(official.secret) as { refreshToken: string }).refreshToken : undefined;
}

/** Lock folders (proper-lockfile) under data/ — and the temp files of interrupted atomic writes. */
export function leftovers(paths: Paths): { locks: string[]; temps: string[] } {
  const locks: string[] = [];
  const temps: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.name.endsWith('.lock')) locks.push(p);
      else if (e.isDirectory() && e.name.endsWith('.tmp')) temps.push(p);
      else if (e.isDirectory()) walk(p);
      else if (/\.\d+$|\.tmp$/.test(e.name) || /\.[0-9a-f]{8,}$/.test(e.name)) temps.push(p);
    }
  };
  walk(paths.data);
  // Codex's flock files (auth.lock, auth.json.lock) stay by design: a lock is the open file, not the file.
  for (const e of fs.readdirSync(paths.codexHome)) if (/^(config\.toml|auth\.json)\./.test(e) && !e.endsWith('.lock')) temps.push(path.join(paths.codexHome, e));
  return { locks, temps };
}

/**
 * How long the rotation window is: from the auth server answering a refresh
 * to the new refresh token being in store.json (and then in auth.json), read
 * by polling both files every millisecond while `aigate serve` refreshes
 * every 250 ms and nothing is killed.
 */
export async function measureWindow(suite: Pick<Suite, 'logs'>, home: Home, auth: MockAuth, port: number): Promise<{ store: number[]; authJson: number[] }> {
  const paths = pathsOf(home);
  const serve = await startServe(home, suite.logs, { name: 'crash-window', port });
  const vault = await Vault.open(paths, null);
  const store: number[] = [];
  const authJson: number[] = [];
  const until = Date.now() + 2_500;
  while (Date.now() < until) {
    const answered = await Promise.race([new Promise<number>((r) => (auth.onRefresh = () => r(performance.now()))), sleep(1_000).then(() => 0)]);
    if (!answered) continue;
    const fresh = auth.issued.at(-1)!.refreshToken;
    let inStore = 0;
    let inAuth = 0;
    while ((!inStore || !inAuth) && performance.now() - answered < 1_000) {
      try {
        const data = JSON.parse(fs.readFileSync(path.join(paths.data, 'store.json'), 'utf8'));
        if (!inStore && readRefreshToken(vault, data) === fresh) inStore = performance.now();
        if (!inAuth && JSON.parse(fs.readFileSync(path.join(home.codexHome, 'auth.json'), 'utf8')).tokens.refresh_token === fresh) inAuth = performance.now();
      } catch {
        // read mid-rename: try again
      }
      await sleep(1);
    }
    if (inStore) store.push(inStore - answered);
    if (inAuth) authJson.push(inAuth - answered);
  }
  auth.onRefresh = undefined;
  await serve.stop();
  return { store, authJson };
}

export const isJson = (line: string) => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};


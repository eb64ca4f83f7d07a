import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { AccountRecord } from '../state/schema.js';
import { healthLabel } from '../state/account-status.js';
import { codexLockProblemNow } from '../state/auth/codex-auth-lock.js';
import { readCodexConfig } from '../state/codex/config.js';
import { DEFAULT_GATEWAY_URL, PLACEHOLDER_AUTH, proxyStatus, type ProxyStatus } from '../state/codex/proxy.js';
import { backupsDir, codexAuthFile, keyFile, type Paths } from '../state/paths.js';
import { Vault } from '../state/secrets.js';
import { packageRoot } from '../state/codex/skills.js';
import type { Command } from './context.js';
import { checkProxies } from './doctor-proxies.js';
import { gatewayUrl, stateContext } from './state-context.js';

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

const ok = (name: string, message: string): Check => ({ name, status: 'ok', message });
const warn = (name: string, message: string, fix: string): Check => ({ name, status: 'warn', message, fix });
const fail = (name: string, message: string, fix: string): Check => ({ name, status: 'fail', message, fix });

async function checkGateway(url: string, proxyOn: boolean): Promise<Check> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return ok('gateway', `answers at ${url} (HTTP ${res.status})`);
  } catch (err) {
    const why = ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message;
    const message = `nothing answers at ${url} (${why})`;
    const fix = 'start it with `aigate serve` (or the tray app); pass --gateway-url if it listens elsewhere';
    return proxyOn ? fail('gateway', `${message}, and Codex is pointed at it: Codex requests will fail`, fix) : warn('gateway', message, fix);
  }
}

function checkProxy(status: ProxyStatus): Check {
  if (status.conflict) return warn('proxy', status.note, '`aigate proxy diff` shows what `off` or `on` would write; run one of them to settle it');
  if (!status.enabled) return warn('proxy', status.note, '`aigate proxy on` points Codex at the gateway');
  return ok('proxy', `${status.note} (${status.baseUrl})`);
}

async function checkAuth(paths: Paths, status: ProxyStatus): Promise<Check> {
  const file = codexAuthFile(paths);
  const needed = status.enabled && status.mode !== 'third-party';
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    const message = `${file} does not exist`;
    return needed ? fail('auth.json', `${message}; Codex will not start without a login`, '`aigate proxy on` writes a placeholder login, or run `codex login`') : warn('auth.json', message, 'run `codex login`, or `aigate proxy on`, which writes a placeholder');
  }
  if (text === PLACEHOLDER_AUTH) return ok('auth.json', 'placeholder API-key login written by AI Gate (the gateway replaces it)');
  let auth: { tokens?: { access_token?: unknown; refresh_token?: unknown } | null; OPENAI_API_KEY?: unknown } | null;
  try {
    auth = JSON.parse(text);
  } catch (err) {
    return fail('auth.json', `${file} is not valid JSON (${(err as Error).message})`, 'run `codex login` to recreate it, or `aigate backup list` to restore one');
  }
  if (auth?.tokens?.access_token && auth.tokens.refresh_token) return ok('auth.json', 'ChatGPT login present');
  if (typeof auth?.OPENAI_API_KEY === 'string' && auth.OPENAI_API_KEY) return ok('auth.json', 'API-key login present');
  const message = 'holds neither ChatGPT tokens nor an API key';
  return needed ? fail('auth.json', message, '`aigate proxy on` writes a placeholder login, or run `codex login`') : warn('auth.json', message, 'run `codex login`');
}

function checkKey(vault: Vault, paths: Paths): Check {
  if (vault.source === 'keychain') return ok('key', 'the store key is in the OS keychain');
  const why = Vault.keychainProblem ? ` (no OS keychain: ${Vault.keychainProblem})` : '';
  return warn('key', `the store key is in ${keyFile(paths)}, mode 0600${why}`, 'fine on a headless box; on a desktop, unlock or install the keychain (Secret Service / Keychain / Credential Manager) and restart AI Gate');
}

async function checkPermissions(paths: Paths): Promise<Check> {
  const loose: string[] = [];
  const look = async (p: string, want: number) => {
    const stat = await fs.stat(p).catch(() => undefined);
    if (stat && stat.mode & 0o077) loose.push(`${p} is ${(stat.mode & 0o777).toString(8)}, want ${want.toString(8)}`);
  };
  for (const dir of [paths.home, paths.data, backupsDir(paths)]) await look(dir, 0o700);
  const files = await fs.readdir(paths.data).catch(() => [] as string[]);
  for (const f of files) {
    const p = path.join(paths.data, f);
    if ((await fs.stat(p).catch(() => undefined))?.isFile()) await look(p, 0o600);
  }
  await look(codexAuthFile(paths), 0o600);
  if (!loose.length) return ok('permissions', `${paths.home} and its files are private (0700/0600)`);
  return warn('permissions', loose.join('; '), `chmod 700 on the folders and 600 on the files named (other users on this machine could read tokens)`);
}

function checkAccounts(accounts: readonly AccountRecord[]): Check[] {
  if (!accounts.length) return [warn('accounts', 'no accounts yet', '`aigate accounts import` (your Codex login) or `aigate accounts add NAME --base-url URL`')];
  const now = Date.now();
  const out = accounts
    .filter((a) => a.health.state === 'needs-login')
    .map((a) => warn(`account ${a.name}`, healthLabel(a, now), `sign in again: \`aigate accounts login --name ${a.name}\` (or \`codex login\` then \`aigate accounts import\`)`));
  const usable = accounts.filter((a) => a.enabled && a.health.state !== 'needs-login').length;
  out.unshift(usable ? ok('accounts', `${usable} of ${accounts.length} usable`) : fail('accounts', 'no enabled account can take requests', 'enable one (`aigate accounts enable NAME`) or sign in again'));
  return out;
}

function codexVersion(bin: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: 5_000 }, (err, stdout) => resolve(err ? undefined : stdout.trim()));
  });
}

async function checkCodex(): Promise<Check> {
  const local = (() => {
    try {
      return path.join(packageRoot(), 'node_modules/.bin/codex');
    } catch {
      return undefined;
    }
  })();
  for (const bin of ['codex', local].filter((b): b is string => !!b)) {
    const version = await codexVersion(bin);
    if (version) return ok('codex', `${version} (${bin})`);
  }
  return warn('codex', 'no `codex` on PATH', 'install it: `npm install -g @openai/codex`');
}

/** Shared ChatGPT logins are refreshed under Codex's own auth.lock, which needs flock from fs-ext. */
async function checkCodexLock(accounts: readonly AccountRecord[]): Promise<Check[]> {
  if (!accounts.some((a) => a.kind === 'official')) return [];
  const problem = await codexLockProblemNow();
  if (!problem) return [ok('codex lock', "a login shared with Codex is refreshed under Codex's own auth.lock")];
  return [warn('codex lock', problem, 'reinstall AI Gate where native modules build (`npm install` with a C++ toolchain), or avoid signing Codex in with an account AI Gate also holds')];
}

const ICON = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check the gateway, proxy settings, logins, keys, permissions, upstream proxies and Codex, and say what to do',
  usage: 'aigate doctor [--gateway-url URL] [--json]   (exit code 1 when a check fails)',
  async run(args, ctx) {
    const { values } = parseArgs({ args, options: { 'gateway-url': { type: 'string' }, json: { type: 'boolean' } } });
    const state = await stateContext(ctx);
    const checks: Check[] = [];
    let status: ProxyStatus | undefined;
    try {
      await readCodexConfig(state.paths);
      status = await proxyStatus(state);
      checks.push(ok('config.toml', 'parses'), checkProxy(status));
    } catch (err) {
      checks.push(fail('config.toml', (err as Error).message, 'fix the file by hand, or `aigate backup list` and `aigate backup restore ID`'));
    }
    const url = gatewayUrl(ctx, values['gateway-url']) ?? state.store.data.proxy?.gatewayUrl ?? DEFAULT_GATEWAY_URL;
    checks.push(await checkGateway(url, !!status?.enabled));
    if (status) checks.push(await checkAuth(state.paths, status));
    checks.push(checkKey(state.vault, state.paths), await checkPermissions(state.paths));
    checks.push(...checkAccounts(state.store.data.accounts), ...(await checkCodexLock(state.store.data.accounts)), ...(await checkProxies(await ctx.net(), state.store.data.accounts, ctx.env)), await checkCodex());
    if (values.json) ctx.json({ ok: !checks.some((c) => c.status === 'fail'), checks });
    else for (const c of checks) ctx.out(`${ICON[c.status]}  ${c.name}: ${c.message}${c.fix ? `\n        → ${c.fix}` : ''}`);
    return checks.some((c) => c.status === 'fail') ? 1 : 0;
  },
};

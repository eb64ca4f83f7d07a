/** Shared test plumbing: temp homes, a gateway on port 0, the CLI as a child process, fake JWTs, secret scans. */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addThirdParty, upsertOfficial } from '../src/state/accounts.js';
import type { Paths } from '../src/state/paths.js';
import { launchGateway, type LaunchOptions, type RunningGateway } from '../src/launch.js';
import type { Clock } from '../src/state/clock.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface TempHome {
  dir: string;
  paths: Paths;
  env: NodeJS.ProcessEnv;
  /** Runs `fn` after the test file, before the temp dir is removed (last deferred first). */
  defer(fn: () => unknown): void;
}

/** A fresh `$AIGATE_HOME` and `$CODEX_HOME` (and `$HOME`) under one temp dir, removed after the test file. */
export async function tempHome(prefix = 'aigate-test-'): Promise<TempHome> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  const paths: Paths = { home: path.join(dir, 'aigate'), data: path.join(dir, 'aigate', 'data'), codexHome: path.join(dir, 'codex') };
  await fs.mkdir(paths.codexHome, { recursive: true });
  const deferred: (() => unknown)[] = [];
  after(async () => {
    for (const fn of deferred.reverse()) await fn();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    AIGATE_HOME: paths.home,
    CODEX_HOME: paths.codexHome,
    NODE_DEBUG: '',
  };
  return { dir, paths, env, defer: (fn) => deferred.push(fn) };
}

/** A settable clock for cooldowns and resets. */
export class TestClock implements Clock {
  constructor(public t = Date.now()) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** The gateway in this process on 127.0.0.1:0, with no OS keychain. Stopped after the test file. */
export async function startGateway(home: TempHome, options: Partial<LaunchOptions> = {}): Promise<RunningGateway & { base: string }> {
  const running = await launchGateway({ address: { host: '127.0.0.1', port: 0 }, env: home.env, paths: home.paths, keychain: null, ...options });
  home.defer(() => running.stop(0));
  return Object.assign(running, { base: `${running.gateway.url}/ai-router/api` });
}

export async function addProvider(running: RunningGateway, name: string, baseUrl: string, apiKey = `sk-${name}-secret-0123456789`) {
  return addThirdParty(running.store, running.vault, { name, baseUrl, apiKey });
}

export async function addOfficial(running: RunningGateway, name: string, claims: { accountId: string; email?: string; userId?: string; expSeconds?: number }) {
  const tokens = officialTokens(claims);
  return { ...(await upsertOfficial(running.store, running.vault, tokens, name)), tokens };
}

/** An unsigned JWT with the claims Codex and AI Gate read. */
export function fakeJwt(payload: Record<string, unknown>): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.sig`;
}

export function officialTokens(c: { accountId: string; email?: string; userId?: string; expSeconds?: number; plan?: string }) {
  const auth = { chatgpt_account_id: c.accountId, chatgpt_user_id: c.userId ?? `user-${c.accountId}`, chatgpt_plan_type: c.plan ?? 'plus' };
  const exp = Math.floor(Date.now() / 1000) + (c.expSeconds ?? 3600);
  const email = c.email ?? `${c.accountId}@example.com`;
  return {
    accessToken: fakeJwt({ exp, 'https://api.openai.com/auth': auth, n: Math.random() }),
    idToken: fakeJwt({ email, exp, 'https://api.openai.com/auth': auth }),
    refreshToken: `rt-${c.accountId}-${Math.random().toString(36).slice(2)}`,
    accountId: c.accountId,
  };
}

/** Codex's auth.json for a ChatGPT login. */
export function codexAuthJson(tokens: ReturnType<typeof officialTokens>): string {
  return JSON.stringify(
    {
      auth_mode: 'chatgpt',
      OPENAI_API_KEY: null,
      tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.accountId },
      last_refresh: new Date().toISOString(),
    },
    null,
    2,
  );
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `aigate …` (the built bundle) as a child process. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/aigate.js'), ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** Every file under `dir` whose bytes contain any of `secrets` (also base64-encoded). */
export async function filesContaining(dir: string, secrets: string[]): Promise<string[]> {
  const needles = secrets.flatMap((s) => [s, Buffer.from(s).toString('base64')]);
  const hits: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const text = (await fs.readFile(p)).toString('latin1');
        if (needles.some((n) => text.includes(n))) hits.push(p);
      }
    }
  };
  await walk(dir);
  return hits;
}

/** Reads an SSE body into its parsed `data:` events. */
export function parseSse(text: string): any[] {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n'))
    .filter(Boolean)
    .map((d) => JSON.parse(d));
}

/** POSTs a Responses request to the gateway and reads the whole answer. */
export async function postResponses(base: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

export const turn = (text: string, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-5.1-codex',
  stream: true,
  store: false,
  input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }],
  ...extra,
});

/** The admin token a running gateway created in `$AIGATE_HOME/data/admin-token`. */
export async function adminToken(running: RunningGateway): Promise<string> {
  return (await fs.readFile(path.join(running.paths.data, 'admin-token'), 'utf8')).trim();
}

export interface AdminResponse {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  text: string;
  /** The parsed body, when it is JSON (tests read it loosely). */
  json: any;
}

/**
 * One request to the gateway's admin API (or any path) over a raw socket, so
 * `Host` and `Origin` can be set to anything. Sends the Bearer token unless
 * `token` is null; `body` objects go as JSON.
 */
export async function adminRequest(
  running: RunningGateway,
  method: string,
  urlPath: string,
  options: { body?: unknown; headers?: Record<string, string>; token?: string | null } = {},
): Promise<AdminResponse> {
  const { default: http } = await import('node:http');
  const url = new URL(urlPath, running.gateway.url);
  const token = options.token === undefined ? await adminToken(running) : options.token;
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    host: url.host,
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, setHost: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let json: AdminResponse['json'];
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Builds `dist/` (what `runCli` runs) unless it is newer than every file in
 * src/; `npm test` builds first, so this only builds when one file runs alone.
 */
export async function ensureBuilt(): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const newest = async (dir: string): Promise<number> => {
    let max = 0;
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      max = Math.max(max, e.isDirectory() ? await newest(p) : (await fs.stat(p)).mtimeMs);
    }
    return max;
  };
  const built = await fs.stat(path.join(ROOT, 'dist/cli/main.js')).then((s) => s.mtimeMs, () => 0);
  if (built > (await newest(path.join(ROOT, 'src')))) return;
  const result = spawnSync(process.execPath, ['build/build.js'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`node build/build.js failed:\n${result.stderr}`);
}

/** The state a CLI verb or admin route gets (`{paths, store, vault}`), on a temp home, with a throwaway key. */
export async function openState(home: TempHome): Promise<import('../src/state/context.js').StateContext> {
  const { Store } = await import('../src/state/store.js');
  const { Vault } = await import('../src/state/secrets.js');
  const store = await Store.open(home.paths);
  after(() => store.close());
  return { paths: home.paths, store, vault: Vault.fromKey((await import('node:crypto')).randomBytes(32)) };
}

/** The lines a unified diff adds and removes, without its headers. */
export function changedLines(diff: string): { added: string[]; removed: string[] } {
  const body = diff.split('\n').filter((l) => !l.startsWith('+++') && !l.startsWith('---') && !l.startsWith('@@') && !l.startsWith('='));
  const added = body.filter((l) => l.startsWith('+')).map((l) => l.slice(1).replace(/\r$/, ''));
  const removed = body.filter((l) => l.startsWith('-')).map((l) => l.slice(1).replace(/\r$/, ''));
  // A last line that only gains its newline shows as removed and added again: not a change of content.
  return { added: added.filter((l) => !removed.includes(l)), removed: removed.filter((l) => !added.includes(l)) };
}

/** `aigate …` as a child process you can talk to while it runs (sign-in flows print a URL, then wait). */
export function startCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/aigate.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (d) => ((stdout += d), listeners.forEach((l) => l())));
  child.stderr.on('data', (d) => ((stderr += d), listeners.forEach((l) => l())));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  after(() => child.kill());
  return {
    child,
    result,
    /** The first match of `pattern` in stderr + stdout, waiting for it (or failing when the process ends first). */
    waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = (stderr + stdout).match(pattern);
          if (m) {
            listeners.delete(check);
            resolve(m);
          }
        };
        listeners.add(check);
        check();
        void result.then((r) => listeners.has(check) && reject(new Error(`aigate exited (${r.code}) before printing ${pattern}:\n${r.stderr}${r.stdout}`)));
      });
    },
  };
}

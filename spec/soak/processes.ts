/**
 * The processes a soak run drives: the mock upstream, `aigate serve` (the
 * built CLI, `node bin/aigate.js serve`) and `aigate` CLI verbs. Every line any
 * of them prints is captured to a log file, which the secrets scan reads at
 * the end. Everything listens on 127.0.0.1 only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'aigate.js');
const PROBE = path.join(ROOT, 'spec', 'soak', 'probe.mjs');

/** Where a run keeps its logs; every file here is scanned for secrets. */
export class Logs {
  readonly files = new Set<string>();
  private n = 0;
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }
  /** A new log file for one process; both its streams go there. */
  attach(name: string, child: ChildProcess): string {
    const file = path.join(this.dir, `${String(++this.n).padStart(4, '0')}-${name.replace(/[^\w.-]/g, '_')}.log`);
    const out = fs.createWriteStream(file);
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.once('close', () => out.end());
    this.files.add(file);
    return file;
  }
  /** Text the harness itself received from AI Gate (admin API answers), kept for the scan. */
  record(name: string, text: string): void {
    const file = path.join(this.dir, `responses-${name}.log`);
    fs.appendFileSync(file, text + '\n');
    this.files.add(file);
  }
}

export interface Home {
  dir: string;
  aigateHome: string;
  codexHome: string;
  env: NodeJS.ProcessEnv;
}

/** A fresh `$AIGATE_HOME` + `$CODEX_HOME` under `parent`, and the environment every AI Gate process gets. */
export function makeHome(parent: string, name: string, extra: NodeJS.ProcessEnv = {}): Home {
  const dir = path.join(parent, name);
  const aigateHome = path.join(dir, 'aigate');
  const codexHome = path.join(dir, 'codex');
  fs.mkdirSync(codexHome, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    AIGATE_HOME: aigateHome,
    CODEX_HOME: codexHome,
    // Nothing may leave the machine: official traffic and sign-in point at closed loopback ports unless a test says otherwise.
    AIGATE_CHATGPT_BASE_URL: 'http://127.0.0.1:9/backend-api/codex',
    AIGATE_AUTH_ISSUER: 'http://127.0.0.1:9',
    AIGATE_SCHEDULER_INTERVAL: 'off',
    // No Secret Service on Linux desktops either: a soak must never put a key in the user's real keychain.
    DBUS_SESSION_BUS_ADDRESS: 'disabled:',
    NODE_DEBUG: '',
    ...extra,
  };
  return { dir, aigateHome, codexHome, env };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

export function build(): void {
  const result = spawnSync(process.execPath, ['build/build.js'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`node build/build.js failed:\n${result.stderr}${result.stdout}`);
}

/** Open file descriptors of a process (Linux /proc). */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size and its peak (VmHWM) in bytes. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

export interface Mock {
  url: string;
  trapUrl: string;
  child: ChildProcess;
  stats(): Promise<any>;
  setKeys(keys: Record<string, string>): void;
  stop(): Promise<void>;
}

let probeIds = 0;
function ask<T>(child: ChildProcess, message: Record<string, unknown>, key: string): Promise<T> {
  const id = ++probeIds;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${key} answer from pid ${child.pid}`)), 10_000);
    const on = (m: any) => {
      if (m?.[key] !== id) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send({ ...message, [key]: id });
  });
}

export async function startMock(logs: Logs): Promise<Mock> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'spec', 'soak', 'mock-server.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  logs.attach('mock-upstream', child);
  const { port, trapPort } = await new Promise<{ port: number; trapPort: number }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the soak mock exited (${code}) before listening`)));
    child.on('message', (m: any) => m.port && resolve(m));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    trapUrl: `http://127.0.0.1:${trapPort}`,
    child,
    stats: async () => (await ask<{ counters: any }>(child, {}, 'stats')).counters,
    setKeys: (keys) => child.send({ keys }),
    stop: () => stopChild(child, 'SIGTERM'),
  };
}

export interface Serve {
  pid: number;
  url: string;
  base: string;
  child: ChildProcess;
  log: string;
  fds(): number;
  memory(): { rss: number; peak: number };
  /** Heap after a full GC (needs the probe), and RSS. */
  heap(): Promise<{ heapUsed: number; rss: number; external: number; arrayBuffers: number }>;
  alive(): boolean;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `node bin/aigate.js serve` on `port` (a free one when 0). `probe` adds
 * `--expose-gc` and the heap probe. Resolves once it prints "gateway ready".
 */
export async function startServe(home: Home, logs: Logs, options: { name: string; port?: number; probe?: boolean; env?: NodeJS.ProcessEnv; readyTimeoutMs?: number }): Promise<Serve> {
  const port = options.port || (await freePort());
  const pre = options.probe ? ['--expose-gc', '--import', PROBE] : [];
  const child = spawn(process.execPath, [...pre, BIN, 'serve', '--listen', `127.0.0.1:${port}`], {
    cwd: ROOT,
    env: { ...home.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.probe ? (['ipc'] as const) : [])],
  });
  const log = logs.attach(options.name, child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`aigate serve (${options.name}) not ready within ${options.readyTimeoutMs ?? 20_000} ms:\n${out}`)), options.readyTimeoutMs ?? 20_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`aigate serve (${options.name}) exited (${code}) before it was ready:\n${out}`));
    };
    child.once('exit', onExit);
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('gateway ready')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  const pid = child.pid!;
  const url = `http://127.0.0.1:${port}`;
  return {
    pid,
    url,
    base: `${url}/ai-router/api`,
    child,
    log,
    fds: () => fdCount(pid),
    memory: () => memory(pid),
    heap: () => ask(child, {}, 'soakProbe'),
    alive: () => child.exitCode === null && child.signalCode === null,
    kill9: () => stopChild(child, 'SIGKILL'),
    stop: () => stopChild(child, 'SIGTERM'),
  };
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `aigate …` as a child process whose output is captured (and logged); `kill9()` ends it mid-way. */
export function spawnCli(args: string[], home: Home, logs: Logs, stdin = '') {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: home.env, stdio: ['pipe', 'pipe', 'pipe'] });
  logs.attach(`cli-${args.slice(0, 2).join('-')}`, child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(stdin);
  const result = new Promise<CliRun>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, result, kill9: () => stopChild(child, 'SIGKILL') };
}

export const runCli = (args: string[], home: Home, logs: Logs, stdin = '') => spawnCli(args, home, logs, stdin).result;

export function tempRoot(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

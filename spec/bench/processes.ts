/**
 * The processes the bench measures, each on its own so CPU time and RSS are
 * per process: the mock upstream, the pipe proxies and AI Gate (`aigate serve`
 * from dist/). Every measured process preloads probe.mjs and answers CPU/RSS
 * over IPC; peak RSS comes from /proc (VmHWM, reset per cell via clear_refs).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const OUT = path.join(ROOT, 'spec', 'artifacts', 'bench');
/** The AI Gate checkout under test (default: this one); another checkout's dist/ lets a change be compared. */
export const AIGATE_DIR = path.resolve(process.env.BENCH_AIGATE_DIR || ROOT);
const PROBE = path.join(OUT, 'probe.mjs');

/** AI Gate's CLI, bundled by the bench (see buildChildren). */
export const aigateCli = (dir = AIGATE_DIR) => path.join(OUT, dir === ROOT ? 'aigate.mjs' : `aigate-${path.basename(dir)}.mjs`);

/**
 * Compiles the bench's own child processes to plain ESM, so they run without
 * the tsx loader (which would inflate their RSS), and bundles AI Gate's CLI
 * the way build/build.js does (esbuild, packages external) — but only the CLI
 * and into spec/artifacts/, so a half-edited popover elsewhere in a shared tree
 * cannot stop the bench and the bench never rewrites dist/ under a running test.
 */
export async function buildChildren(dirs: string[] = [AIGATE_DIR]): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const node = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' } as const;
  await esbuild.build({
    ...node,
    entryPoints: ['mock-server', 'pipe-proxy', 'got-proxy', 'probe'].map((n) => path.join(ROOT, 'spec', 'bench', `${n}.ts`)),
    outdir: OUT,
    outExtension: { '.js': '.mjs' },
  });
  for (const dir of dirs) {
    await esbuild.build({
      ...node,
      stdin: { contents: `import { run } from ${JSON.stringify(path.join(dir, 'src', 'cli', 'main.ts'))};\nawait run();\n`, resolveDir: dir, loader: 'ts' },
      outfile: aigateCli(dir),
    });
  }
}

export interface Measured {
  name: string;
  child: ChildProcess;
  /** CPU time of the process (user + system, all threads) in µs, and its current RSS in bytes. */
  probe(): Promise<{ cpuUs: number; sysUs: number; rss: number }>;
  stop(): Promise<void>;
}

let probeId = 0;

function measured(name: string, child: ChildProcess): Measured {
  const log = fs.createWriteStream(path.join(OUT, `${name}.log`));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return {
    name,
    child,
    probe: () =>
      new Promise((resolve) => {
        const id = ++probeId;
        const onMessage = (m: { probe?: number; cpuUs: number; sysUs: number; rss: number }) => {
          if (m.probe !== id) return;
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
        child.send({ probe: id });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.connected) child.send({ bye: true });
        child.kill('SIGTERM');
      }),
  };
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv = process.env, probe = true): ChildProcess {
  const preload = probe ? ['--import', PROBE] : [];
  return spawn(process.execPath, [...preload, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
}

const portMessage = (child: ChildProcess) =>
  new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before listening`)));
    child.on('message', (m: { port?: number }) => m.port && resolve(m.port));
  });

/** The mock upstream, or a pipe proxy (`pipe-proxy` / `got-proxy`) in front of `upstream`. */
export async function startChild(
  script: 'mock-server' | 'pipe-proxy' | 'got-proxy',
  name: string,
  upstream?: string,
  nodeArgs: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Measured & { url: string }> {
  const child = spawnNode([...nodeArgs, path.join(OUT, `${script}.mjs`), ...(upstream ? [upstream] : [])], env, script !== 'mock-server');
  const m = measured(name, child);
  const port = await portMessage(child);
  return { ...m, url: `http://127.0.0.1:${port}` };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A fresh AI Gate home with third-party accounts added through the CLI, in this order (the first is active). */
export function gatewayHome(accounts: { name: string; baseUrl: string }[], dir = AIGATE_DIR): NodeJS.ProcessEnv {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'aigate-bench-'));
  const env = { ...process.env, HOME: home, AIGATE_HOME: path.join(home, 'aigate'), CODEX_HOME: path.join(home, 'codex'), NODE_DEBUG: '' };
  fs.mkdirSync(env.CODEX_HOME, { recursive: true });
  for (const a of accounts) {
    const added = spawnSync(process.execPath, [aigateCli(dir), 'accounts', 'add', a.name, '--base-url', a.baseUrl], { cwd: ROOT, env, input: `sk-bench-${a.name}-0123456789\n` });
    if (added.status !== 0) throw new Error(`aigate accounts add ${a.name} failed: ${added.stderr}`);
  }
  return env;
}

export const removeHome = (env: NodeJS.ProcessEnv) => fs.rmSync(env.HOME!, { recursive: true, force: true });

/** Node flags for every AI Gate process, e.g. BENCH_NODE_ARGS="--trace-gc" or "--max-semi-space-size=4". */
const GATEWAY_NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** `aigate serve` on a free loopback port; `nodeArgs` e.g. --cpu-prof. */
export async function startGateway(name: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = [], dir = AIGATE_DIR): Promise<Measured & { url: string }> {
  const port = await freePort();
  const child = spawnNode([...GATEWAY_NODE_ARGS, ...nodeArgs, aigateCli(dir), 'serve', '--listen', `127.0.0.1:${port}`], env);
  const m = measured(name, child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`aigate serve exited (${code}); see ${path.join(OUT, `${name}.log`)}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('gateway ready')) resolve();
    });
  });
  return { ...m, url: `http://127.0.0.1:${port}` };
}

/** Resets the kernel's peak-RSS mark (VmHWM) of a process; false where the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** VmHWM (peak) and VmRSS (now) of a process, in bytes. */
export function memory(pid: number): { peak: number; rss: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peak: kb('VmHWM'), rss: kb('VmRSS') };
}

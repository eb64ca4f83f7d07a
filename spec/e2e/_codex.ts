/** Drives the real Codex CLI (node_modules/.bin/codex) in a loopback-only network namespace. */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../_helpers.js';

export const CODEX_BIN = path.join(ROOT, 'node_modules/.bin/codex');
export const MODEL = 'gpt-5.1-codex';

/**
 * The e2e suite runs inside `unshare -rn` (see build/test.js), where the only
 * interface is loopback. Refuse to start Codex anywhere else: it must never
 * reach beyond this machine.
 */
export function assertLoopbackOnly(): void {
  const interfaces = Object.keys(os.networkInterfaces());
  if (interfaces.some((name) => name !== 'lo')) {
    throw new Error(`e2e tests must run in a loopback-only namespace (found ${interfaces.join(', ')}); use \`npm run test:e2e\``);
  }
}

export interface CodexRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** ChatGPT mode's apps, plugins and analytics call chatgpt.com directly; off, so turns do not wait on them. */
export const QUIET_CHATGPT_MODE = ['-c', 'features.apps=false', '-c', 'features.plugins=false', '-c', 'features.remote_plugin=false', '-c', 'analytics.enabled=false'];

/**
 * `-c` overrides for Codex's built-in `openai` provider rerouted to the gateway (what `aigate proxy on`
 * writes). Codex's own ChatGPT-mode side calls go to `chatgptBaseUrl` directly, not through the gateway.
 */
export function builtinArgs(gatewayBase: string, chatgptBaseUrl: string, extra: string[] = []): string[] {
  return ['-c', `openai_base_url="${gatewayBase}"`, '-c', `chatgpt_base_url="${chatgptBaseUrl}"`, ...QUIET_CHATGPT_MODE, ...extra];
}

/** `-c` overrides for a custom provider named `gw` pointing at `baseUrl`. */
export function providerArgs(baseUrl: string, options: { envKey?: string; requiresOpenaiAuth?: boolean } = {}): string[] {
  const c = (kv: string) => ['-c', kv];
  return [
    ...c('model_provider="gw"'),
    ...c('model_providers.gw.name="gw"'),
    ...c(`model_providers.gw.base_url="${baseUrl}"`),
    ...c('model_providers.gw.wire_api="responses"'),
    ...(options.envKey ? c(`model_providers.gw.env_key="${options.envKey}"`) : []),
    ...(options.requiresOpenaiAuth ? c('model_providers.gw.requires_openai_auth=true') : []),
    ...c('model_providers.gw.request_max_retries=2'),
    ...c('model_providers.gw.stream_max_retries=3'),
  ];
}

/** Runs `codex <args>` with HOME and CODEX_HOME set, stdin closed, and a hard time limit. */
export function runCodex(args: string[], env: { home: string; codexHome: string; extra?: NodeJS.ProcessEnv }, timeoutMs = Number(process.env.CODEX_TIMEOUT_MS) || 120_000): Promise<CodexRun> {
  assertLoopbackOnly();
  return new Promise((resolve, reject) => {
    // `codex` is a Node wrapper around a native binary: run it in its own process group so the time limit
    // kills both, never leaving the binary behind.
    const child = spawn(CODEX_BIN, args, {
      detached: true,
      cwd: env.home,
      env: { PATH: process.env.PATH, HOME: env.home, CODEX_HOME: env.codexHome, RUST_LOG: 'error', ...env.extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(killGroup, timeoutMs);
    process.once('exit', killGroup);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      process.off('exit', killGroup);
      killGroup(); // anything the wrapper left running
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `codex exec` for one turn; `resume` continues the latest session in the same CODEX_HOME. */
export function execArgs(prompt: string, extra: string[] = [], resume = false): string[] {
  const head = resume ? ['exec', '--skip-git-repo-check', ...extra, 'resume', '--last'] : ['exec', '--skip-git-repo-check', ...extra];
  return [...head, '-m', MODEL, prompt];
}

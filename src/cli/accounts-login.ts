import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { formatDuration, formatResetTime } from '../state/account-status.js';
import { describeAccount, findAccount, requireAccount, upsertOfficial } from '../state/accounts.js';
import { through, type GotVia, type UpstreamNet } from '../state/net/upstream-net.js';
import { CodexAuthSync } from '../state/auth/codex-auth-sync.js';
import { completeDeviceLogin, requestDeviceCode } from '../state/auth/device-login.js';
import { EventBus } from '../state/events.js';
import { authIssuer, callbackPorts, startLogin, type SignedIn } from '../state/auth/oauth.js';
import { RefreshingTokens } from '../state/auth/token-refresh.js';
import type { Store } from '../state/store.js';
import { NeedsLoginError } from '../state/auth/tokens.js';
import { backendUrl, fetchUsage } from '../state/auth/usage.js';
import { DEFAULT_CHATGPT_BASE_URL } from '../proxy/providers.js';
import { errorObject, limitVerdict, quotaFromHeaders } from '../proxy/quota.js';
import { applyQuota } from '../state/quota-history.js';
import { CliError, type CliContext, type Verb } from './context.js';
import { table } from './table.js';
import type { AccountRecord, Quota, QuotaWindow } from '../state/schema.js';
import { httpClient } from '../state/net/http-client.js';


/** `aigate accounts login | test | usage`: signing in with ChatGPT, checking an account, its quota. */
export const loginVerbs: Record<string, Verb> = { login, test, usage };

async function login(args: string[], ctx: CliContext, json: boolean): Promise<void> {
  const { values } = parseArgs({ args, options: { name: { type: 'string' }, device: { type: 'boolean' }, 'no-browser': { type: 'boolean' } } });
  const issuer = authIssuer(ctx.env);
  const [store, vault, net] = await Promise.all([ctx.store(), ctx.vault(), ctx.net()]);
  // Signing in again to an account that has its own proxy goes through that proxy.
  const known = values.name === undefined ? undefined : findAccount(store.data, values.name);
  const via = await net.via(`${issuer}/oauth/token`, known);
  const tokens = values.device ? await deviceSignIn(issuer, ctx, via) : await browserSignIn(issuer, ctx, !values['no-browser'], via);
  const { account, created } = await upsertOfficial(store, vault, tokens, values.name);
  if (json) ctx.json(describeAccount(account, store.data));
  else ctx.out(`${account.name} ${created ? 'signed in' : 'signed in again'} (ChatGPT ${account.email ?? account.chatgptAccountId}${account.plan ? `, ${account.plan}` : ''})`);
}

async function browserSignIn(issuer: string, ctx: CliContext, browser: boolean, via: GotVia): Promise<SignedIn> {
  const pending = await startLogin({ issuer, ports: callbackPorts(ctx.env), via });
  const cancel = () => pending.cancel('sign-in cancelled (Ctrl-C)');
  process.once('SIGINT', cancel);
  // The URL goes to stderr so `--json` output stays one JSON document; it is safe to show (no secret in it).
  ctx.stderr.write(`Sign in with ChatGPT in your browser${browser && openBrowser(pending.url, ctx.env) ? ' (opening it now)' : ''}:\n\n  ${pending.url}\n\nWaiting for the browser to come back to http://localhost:${pending.port}/auth/callback …\n`);
  try {
    return await pending.done;
  } finally {
    process.off('SIGINT', cancel);
  }
}

async function deviceSignIn(issuer: string, ctx: CliContext, via: GotVia): Promise<SignedIn> {
  const code = await requestDeviceCode(issuer, via);
  ctx.stderr.write(`On any device, open ${code.verificationUrl}\nsign in, and enter this code (expires in 15 minutes; never share it):\n\n  ${code.userCode}\n\nWaiting …\n`);
  const abort = new AbortController();
  const cancel = () => abort.abort();
  process.once('SIGINT', cancel);
  try {
    return await completeDeviceLogin(issuer, code, { signal: abort.signal, via });
  } catch (err) {
    if (abort.signal.aborted) throw new CliError('sign-in cancelled (Ctrl-C)');
    throw err;
  } finally {
    process.off('SIGINT', cancel);
  }
}

/** Best effort: where there is no desktop (SSH, WSL without one, CI) the printed URL is the way. */
function openBrowser(url: string, env: NodeJS.ProcessEnv): boolean {
  const [cmd, ...args] =
    process.platform === 'darwin' ? ['open', url] : process.platform === 'win32' ? ['rundll32', 'url.dll,FileProtocolHandler', url] : env.DISPLAY || env.WAYLAND_DISPLAY ? ['xdg-open', url] : [];
  if (!cmd) return false;
  try {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

async function tokenSource(ctx: CliContext): Promise<RefreshingTokens> {
  const [store, vault, net] = await Promise.all([ctx.store(), ctx.vault(), ctx.net()]);
  return new RefreshingTokens({ paths: ctx.paths, store, vault, net, bus: new EventBus(), issuer: authIssuer(ctx.env), codex: CodexAuthSync.forPaths(ctx.paths) });
}

type TestResult = { result: 'ok' | 'needs-login' | 'quota' | 'error'; status?: number; message: string; resetsAt?: number; ms?: number };

/** One minimal real request through the account: a streamed "Reply with OK". */
async function test(args: string[], ctx: CliContext, json: boolean): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { model: { type: 'string' } }, allowPositionals: true });
  if (!positionals[0]) throw new CliError('usage: aigate accounts test NAME [--model SLUG]', 2);
  const store = await ctx.store();
  const account = requireAccount(store.data, positionals[0]);
  const outcome = await probe(account, { store, tokens: await tokenSource(ctx), net: await ctx.net() }, ctx.env, values.model ?? 'gpt-5.1-codex');
  const now = Date.now();
  if (json) ctx.json({ account: account.name, ...outcome, resetsAt: outcome.resetsAt && new Date(outcome.resetsAt).toISOString() });
  else if (outcome.result === 'ok') ctx.out(`${account.name}: ok (${outcome.ms} ms)`);
  else if (outcome.result === 'quota') ctx.out(`${account.name}: out of quota — ${outcome.resetsAt ? `resets ${formatResetTime(outcome.resetsAt, now)} (in ${formatDuration(outcome.resetsAt - now)})` : outcome.message}`);
  else ctx.out(`${account.name}: ${outcome.result === 'needs-login' ? 'needs sign-in' : 'error'} — ${outcome.message}`);
  return outcome.result === 'ok' ? 0 : 1;
}

async function probe(account: AccountRecord, { store, tokens, net }: { store: Store; tokens: RefreshingTokens; net: UpstreamNet }, env: NodeJS.ProcessEnv, model: string): Promise<TestResult> {
  const base = account.kind === 'official' ? env.AIGATE_CHATGPT_BASE_URL || DEFAULT_CHATGPT_BASE_URL : account.baseUrl!;
  const body = {
    model,
    instructions: 'Reply with the single word OK.',
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'OK?' }] }],
    stream: true,
    store: false,
  };
  const started = Date.now();
  try {
    const url = `${base.replace(/\/+$/, '')}/responses`;
    const via = await net.via(url, account);
    let secret = await tokens.secretFor(account);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { authorization: `Bearer ${secret}`, accept: 'text/event-stream', originator: 'aigate', 'user-agent': 'aigate' };
      if (account.kind === 'official' && account.chatgptAccountId) headers['chatgpt-account-id'] = account.chatgptAccountId;
      const res = await (await httpClient()).post(url, { json: body, headers, agent: via.agent, throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: 60_000 } });
      const quota = quotaFromHeaders(res.headers, Date.now());
      if (quota) await recordQuota(store, account, quota);
      if (res.statusCode === 401 && attempt === 0 && account.kind === 'official') {
        const fresh = await tokens.afterUnauthorized(account, secret);
        if (fresh) {
          secret = fresh;
          continue;
        }
      }
      if (res.statusCode === 429) {
        const verdict = limitVerdict(errorObject(res.body), res.headers, Date.now());
        return { result: 'quota', status: 429, message: verdict.kind === 'usage-limit' ? 'usage limit reached' : 'rate limited', resetsAt: verdict.resetsAt };
      }
      if (res.statusCode === 401 || res.statusCode === 403) return { result: 'needs-login', status: res.statusCode, message: `the upstream refused the credentials (HTTP ${res.statusCode}); run \`aigate accounts login --name ${account.name}\`` };
      if (res.statusCode !== 200) return { result: 'error', status: res.statusCode, message: `HTTP ${res.statusCode}: ${String(errorObject(res.body)?.message ?? '').slice(0, 200)}` };
      const failed = /"type":"response\.failed"[\s\S]*?"code":"([^"]+)"/.exec(res.body)?.[1];
      if (failed) return { result: /quota|usage_limit/.test(failed) ? 'quota' : 'error', status: 200, message: `the answer failed: ${failed}` };
      if (!res.body.includes('response.completed')) return { result: 'error', status: 200, message: 'the stream ended before response.completed' };
      return { result: 'ok', status: 200, message: 'ok', ms: Date.now() - started };
    }
  } catch (err) {
    if (err instanceof NeedsLoginError) return { result: 'needs-login', message: err.message };
    return { result: 'error', message: `${(err as Error).message}${through(await net.via(base, account).catch(() => undefined))}` };
  }
}

async function recordQuota(store: Store, account: AccountRecord, quota: Quota): Promise<void> {
  await store.update((data) => {
    const a = data.accounts.find((x) => x.id === account.id);
    if (a) applyQuota(a, quota);
  });
}

const windowCell = (w: QuotaWindow | undefined, now: number) =>
  w ? `${Math.round(w.usedPercent)}%${w.resetsAt ? ` · resets ${formatResetTime(w.resetsAt, now)}` : ''}` : '—';

/** The official usage endpoint for one account or every ChatGPT account: 5-hour and weekly windows. */
async function usage(args: string[], ctx: CliContext, json: boolean): Promise<number> {
  const store = await ctx.store();
  const accounts = args[0] ? [requireAccount(store.data, args[0])] : store.data.accounts.filter((a) => a.kind === 'official');
  if (!accounts.length) throw new CliError('no ChatGPT account yet: `aigate accounts login` or `aigate accounts import`');
  const tokens = await tokenSource(ctx);
  const backend = backendUrl(ctx.env);
  const rows = await Promise.all(
    accounts.map(async (account) => {
      try {
        return { account, report: await fetchUsage({ store, tokens, backend, net: await ctx.net() }, account) };
      } catch (err) {
        return { account, error: err instanceof NeedsLoginError ? `needs sign-in: run \`aigate accounts login --name ${account.name}\`` : (err as Error).message };
      }
    }),
  );
  const now = Date.now();
  const iso = (w?: QuotaWindow) => w && { ...w, resetsAt: w.resetsAt && new Date(w.resetsAt).toISOString() };
  if (json) {
    ctx.json(rows.map((r) => ({ account: r.account.name, plan: r.report?.plan, primary: iso(r.report?.quota.primary), secondary: iso(r.report?.quota.secondary), credits: r.report?.credits, error: r.error })));
  } else {
    ctx.out(
      table([
        ['NAME', 'PLAN', '5 HOURS', 'WEEK'],
        ...rows.map((r) => (r.report ? [r.account.name, r.report.plan ?? r.account.plan ?? '', windowCell(r.report.quota.primary, now), windowCell(r.report.quota.secondary, now)] : [r.account.name, '', r.error!, ''])),
      ]),
    );
  }
  return rows.some((r) => r.error) ? 1 : 0;
}

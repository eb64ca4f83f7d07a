import { parseArgs } from 'node:util';
import { addThirdParty, checkApiKey, describeAccount, editAccount, orderAccounts, removeAccount, setEnabled, upsertOfficial, useAccount } from '../state/accounts.js';
import { showProxy } from '../state/net/proxy-url.js';
import { healthLabel, quotaLabel } from '../state/account-status.js';
import { loginFrom, readCodexAuth } from '../state/auth/codex-auth.js';
import { codexAuthFile } from '../state/paths.js';
import { loginVerbs } from './accounts-login.js';
import { CliError, runVerb, type CliContext, type Command, type Verb } from './context.js';
import { table } from './table.js';
import { forecastText, poolText } from '../i18n/labels.js';
import { translator } from '../i18n/i18n.js';
import { accountForecast } from '../state/forecast.js';
import { poolForecast } from '../state/pool-forecast.js';
import type { AccountRecord, StoreData } from '../state/schema.js';

const USAGE = `aigate accounts <list|import|login|add|set|use|remove|order|enable|disable|test|usage> [options]
  list                                   accounts in failover order (* = active)
  import [--auth-file PATH] [--name N]   import Codex's login (default $CODEX_HOME/auth.json)
  login [--name N] [--device] [--no-browser]
                                         sign in with ChatGPT (browser, or a device code)
  test NAME [--model SLUG]               one tiny real request: ok, needs sign-in, or out of quota
  usage [NAME]                           5-hour and weekly usage of ChatGPT accounts
  add NAME --base-url URL [--api-key-env VAR]
                                         a third-party Responses API provider; the key is read
                                         from stdin (or the named environment variable), never argv
  set NAME [--name NEW] [--base-url URL] [--upstream-proxy URL|default|direct]
                                         rename, move a provider, or route the account through its
                                         own proxy (default: the upstreamProxy setting)
  use NAME                               make NAME the preferred account
  remove NAME
  order NAME [NAME…]                     put these first, in this order
  enable NAME | disable NAME`;

export const accountVerbs: Record<string, Verb> = {
  list: listAccounts,
  import: importAccount,
  add: addAccount,
  set: setAccount,
  use: async ([name], ctx, json) => report(ctx, json, await useAccount(await ctx.store(), need(name, 'use NAME')), 'is now the preferred account'),
  remove: async ([name], ctx, json) => report(ctx, json, await removeAccount(await ctx.store(), need(name, 'remove NAME')), 'removed'),
  enable: async ([name], ctx, json) => report(ctx, json, await setEnabled(await ctx.store(), need(name, 'enable NAME'), true), 'enabled'),
  disable: async ([name], ctx, json) => report(ctx, json, await setEnabled(await ctx.store(), need(name, 'disable NAME'), false), 'disabled'),
  order: async (names, ctx, json) => {
    if (!names.length) throw new CliError('usage: aigate accounts order NAME [NAME…]', 2);
    const store = await ctx.store();
    await orderAccounts(store, names);
    return listAccounts([], ctx, json);
  },
  ...loginVerbs,
};

export const accountsCommand: Command = {
  name: 'accounts',
  summary: 'list, import, add, use, remove and order accounts',
  usage: USAGE,
  run: (args, ctx) => runVerb('accounts', USAGE, accountVerbs, 'list', args, ctx),
};

function need(value: string | undefined, usage: string): string {
  if (!value) throw new CliError(`usage: aigate accounts ${usage}`, 2);
  return value;
}

async function report(ctx: CliContext, json: boolean, account: AccountRecord, what: string): Promise<void> {
  const store = await ctx.store();
  if (json) ctx.json(describeAccount(account, store.data));
  else ctx.out(`${account.name} ${what}`);
}

const en = translator('en');

export function accountRows(data: Readonly<StoreData>, now: number): string[][] {
  return [
    ['', 'NAME', 'KIND', 'STATUS', 'QUOTA', 'FORECAST', 'PROXY', 'DETAIL'],
    ...data.accounts.map((a) => [
      data.settings.active === a.id ? '*' : '',
      a.name,
      a.kind,
      healthLabel(a, now),
      quotaLabel(a.quota, now),
      forecastText(accountForecast(a, now), now, 'en', en),
      showProxy(a.upstreamProxy),
      a.kind === 'official' ? [a.email, a.plan && `(${a.plan})`].filter(Boolean).join(' ') : (a.baseUrl ?? ''),
    ]),
  ];
}

async function listAccounts(_args: string[], ctx: CliContext, json: boolean): Promise<void> {
  const store = await ctx.store();
  const now = Date.now();
  if (json) {
    ctx.json(store.data.accounts.map((a) => ({ ...describeAccount(a, store.data), forecast: accountForecast(a, now) })));
    return;
  }
  if (!store.data.accounts.length) {
    ctx.out('No accounts yet. Import your Codex login with `aigate accounts import`, or add a provider with `aigate accounts add NAME --base-url URL`.');
    return;
  }
  ctx.out(table(accountRows(store.data, now)));
  const pool = poolText(poolForecast(store.data.accounts, now), now, 'en', en);
  if (pool) ctx.out(pool + '.');
}

async function importAccount(args: string[], ctx: CliContext, json: boolean): Promise<void> {
  const { values } = parseArgs({ args, options: { 'auth-file': { type: 'string' }, name: { type: 'string' } }, allowPositionals: false });
  const file = values['auth-file'] ?? codexAuthFile(ctx.paths);
  const auth = await readCodexAuth(file);
  if (!auth) throw new CliError(`${file} does not exist; log in with \`codex login\` first, or pass --auth-file PATH`);
  const login = loginFrom(auth, file);
  const [store, vault] = await Promise.all([ctx.store(), ctx.vault()]);
  if (login.kind === 'apikey') {
    const account = await addThirdParty(store, vault, { name: values.name ?? 'openai-api', baseUrl: 'https://api.openai.com/v1', apiKey: login.apiKey });
    return report(ctx, json, account, 'imported (OpenAI API key, https://api.openai.com/v1)');
  }
  const { account, created } = await upsertOfficial(store, vault, login.tokens, values.name);
  return report(ctx, json, account, created ? `imported (ChatGPT ${account.email ?? account.chatgptAccountId}${account.plan ? `, ${account.plan}` : ''})` : 'already known: tokens updated');
}

async function addAccount(args: string[], ctx: CliContext, json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'base-url': { type: 'string' }, 'api-key-env': { type: 'string' }, 'api-key': { type: 'string' } },
    allowPositionals: true,
  });
  if (values['api-key'] !== undefined) {
    throw new CliError('refusing --api-key: a key on the command line ends up in shell history and `ps`; pipe it on stdin or use --api-key-env VAR', 2);
  }
  const name = need(positionals[0], 'add NAME --base-url URL');
  if (!values['base-url']) throw new CliError('usage: aigate accounts add NAME --base-url URL (the key on stdin)', 2);
  let apiKey: string;
  if (values['api-key-env']) {
    apiKey = ctx.env[values['api-key-env']] ?? '';
    if (!apiKey) throw new CliError(`environment variable ${values['api-key-env']} is empty or unset`);
  } else {
    if (ctx.stdin.isTTY) ctx.stderr.write(`API key for ${name} (input is read until end of file, Ctrl-D): `);
    apiKey = await ctx.readStdin();
  }
  const [store, vault] = await Promise.all([ctx.store(), ctx.vault()]);
  const account = await addThirdParty(store, vault, { name, baseUrl: values['base-url'], apiKey: checkApiKey(apiKey) });
  return report(ctx, json, account, `added (${account.baseUrl})`);
}

async function setAccount(args: string[], ctx: CliContext, json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { name: { type: 'string' }, 'base-url': { type: 'string' }, 'upstream-proxy': { type: 'string' } },
    allowPositionals: true,
  });
  const name = need(positionals[0], 'set NAME [--name NEW] [--base-url URL] [--upstream-proxy URL|default|direct]');
  if (values.name === undefined && values['base-url'] === undefined && values['upstream-proxy'] === undefined) {
    throw new CliError('nothing to change: give --name NEW, --base-url URL or --upstream-proxy URL|default|direct', 2);
  }
  const [store, vault] = await Promise.all([ctx.store(), ctx.vault()]);
  const account = await editAccount(store, vault, name, { name: values.name, baseUrl: values['base-url'], upstreamProxy: values['upstream-proxy'] });
  const proxy = showProxy(account.upstreamProxy);
  return report(ctx, json, account, `updated${account.baseUrl ? ` (${account.baseUrl})` : ''}; upstream proxy: ${proxy === 'default' ? 'default (the upstreamProxy setting)' : proxy}`);
}

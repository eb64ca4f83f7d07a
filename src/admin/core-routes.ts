import type { Context } from 'koa';
import { z } from 'zod';
import pkg from '../../package.json' with { type: 'json' };
import { addThirdParty, describeAccount, editAccount, orderAccounts, removeAccount, setEnabled, upsertOfficial, useAccount } from '../state/accounts.js';
import { healthLabel, quotaLabel } from '../state/account-status.js';
import { loginFrom, readCodexAuth } from '../state/auth/codex-auth.js';
import { codexAuthFile } from '../state/paths.js';
import type { AccountView, ForecastAnswer } from './answers.js';
import type { AdminRoutes } from './routes.js';
import { readJson } from './input.js';
import { GatewayError } from '../proxy/errors.js';
import type { AdminHost } from './routes.js';
import { accountForecast } from '../state/forecast.js';
import { poolForecast } from '../state/pool-forecast.js';
import type { AccountRecord, StoreData } from '../state/schema.js';
import { applySettings, SettingsChange, settingsView } from '../state/settings.js';

/** An account for the API: no secret (only "set", no quota history), plus the labels the CLI shows and the forecast. */
export function accountView(account: AccountRecord, data: Readonly<StoreData>, now: number): AccountView {
  return { ...describeAccount(account, data), status: healthLabel(account, now), quotaLabel: quotaLabel(account.quota, now), forecast: accountForecast(account, now) };
}

const accountsView = (gw: AdminHost) => gw.store.data.accounts.map((a) => accountView(a, gw.store.data, gw.clock.now()));

const AddAccount = z.strictObject({
  name: z.string().min(1, 'give the account a name'),
  baseUrl: z.string().min(1, "give the provider's Responses API base URL, e.g. https://api.example.com/v1"),
  apiKey: z.string().min(1, "give the provider's API key"),
});
const ImportAccount = z.strictObject({ authFile: z.string().min(1).optional(), name: z.string().min(1).optional() });
const Order = z.strictObject({ names: z.array(z.string().min(1)).min(1, 'list at least one account name') });
const EditAccount = z.strictObject({
  name: z.string().min(1, 'give the account a name').optional(),
  baseUrl: z.string().min(1, "give the provider's Responses API base URL").optional(),
  upstreamProxy: z.string().min(1, 'use default, direct or a proxy URL').optional(),
});

/** Status, accounts and settings: what the tray menu and the Accounts popover read and change. */
export const coreRoutes: AdminRoutes = (router, gw) => {
  const view = (ctx: Context, account: AccountRecord, status = 200) => {
    const current = gw.store.data.accounts.find((a) => a.id === account.id) ?? account;
    ctx.status = status;
    ctx.body = accountView(current, gw.store.data, gw.clock.now());
  };

  router.get('/status', (ctx) => {
    const data = gw.store.data;
    const active = data.accounts.find((a) => a.id === data.settings.active);
    ctx.body = {
      version: pkg.version,
      url: gw.gatewayUrl(),
      baseUrl: `${gw.gatewayUrl()}/ai-router/api`,
      accounts: accountsView(gw),
      active: active?.name ?? null,
      failover: data.settings.failover,
      // Only what and when: `before` holds the user's old config.toml, which may carry their own secrets.
      proxy: data.proxy ? { enabled: true, mode: data.proxy.mode, at: data.proxy.at } : { enabled: false },
      stats: !!gw.stats,
    };
  });

  // When each account, and the pool, runs out at the current pace.
  router.get('/forecast', (ctx) => {
    const data = gw.store.data;
    const now = gw.clock.now();
    ctx.body = { at: now, pool: poolForecast(data.accounts, now), accounts: data.accounts.map((a) => ({ account: a.name, ...accountForecast(a, now) })) } satisfies ForecastAnswer;
  });

  router.get('/accounts', (ctx) => {
    ctx.body = accountsView(gw);
  });

  router.post('/accounts', async (ctx) => {
    const input = await readJson(ctx, AddAccount);
    view(ctx, await addThirdParty(gw.store, gw.vault, input), 201);
  });

  router.post('/accounts/import', async (ctx) => {
    const input = await readJson(ctx, ImportAccount);
    const file = input.authFile ?? codexAuthFile(gw.paths);
    const auth = await readCodexAuth(file);
    if (!auth) throw new GatewayError(404, `${file} does not exist; log in with \`codex login\` first, or give authFile`, 'invalid_request_error', 'no_codex_login');
    const login = loginFrom(auth, file);
    if (login.kind === 'apikey') {
      view(ctx, await addThirdParty(gw.store, gw.vault, { name: input.name ?? 'openai-api', baseUrl: 'https://api.openai.com/v1', apiKey: login.apiKey }), 201);
      return;
    }
    const { account, created } = await upsertOfficial(gw.store, gw.vault, login.tokens, input.name);
    view(ctx, account, created ? 201 : 200);
  });

  router.post('/accounts/order', async (ctx) => {
    const { names } = await readJson(ctx, Order);
    await orderAccounts(gw.store, names);
    ctx.body = accountsView(gw);
  });

  router.post('/accounts/:name/use', async (ctx) => view(ctx, await useAccount(gw.store, ctx.params.name!)));
  router.post('/accounts/:name/enable', async (ctx) => view(ctx, await setEnabled(gw.store, ctx.params.name!, true)));
  router.post('/accounts/:name/disable', async (ctx) => view(ctx, await setEnabled(gw.store, ctx.params.name!, false)));
  router.patch('/accounts/:name', async (ctx) => {
    const edit = await readJson(ctx, EditAccount);
    view(ctx, await editAccount(gw.store, gw.vault, ctx.params.name!, edit));
  });
  router.delete('/accounts/:name', async (ctx) => {
    const removed = await removeAccount(gw.store, ctx.params.name!);
    ctx.body = { removed: removed.name, accounts: accountsView(gw) };
  });

  router.get('/settings', (ctx) => {
    ctx.body = settingsView(gw.store.data);
  });

  router.patch('/settings', async (ctx) => {
    const change = await readJson(ctx, SettingsChange);
    ctx.body = await applySettings(gw.store, gw.vault, change);
    if (change.statsRetentionDays !== undefined) await gw.stats?.prune();
  });
};

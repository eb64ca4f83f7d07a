import type { Context } from 'koa';
import { z } from 'zod';
import { backupDiff, createBackup, listBackups, pruneBackups, restoreBackup } from '../state/codex/backups.js';
import { proxyOff, proxyOn, proxyPlan, proxyStatus, type ProxyPlan } from '../state/codex/proxy.js';
import type { StateContext } from '../state/context.js';
import { addMcp, editMcp, listMcp, removeMcp, setMcpEnabled, type McpChange } from '../state/codex/mcp.js';
import { installSkill, listSkills, removeSkill } from '../state/codex/skills.js';
import { readJson, readQuery } from './input.js';
import type { AdminRoutes } from './routes.js';
import type { AdminHost } from './routes.js';

const Mode = z.enum(['base-url', 'provider'], { error: 'mode is base-url (keeps the provider id openai) or provider (model_provider = "aigate")' });
const ProxyOnBody = z.strictObject({ mode: Mode.optional() });
const ProxyDiffQuery = z.strictObject({ action: z.enum(['on', 'off'], { error: 'action is on or off' }), mode: Mode.optional() });
const BackupBody = z.strictObject({ note: z.string().max(200, 'keep the note under 200 characters').optional() });
const NoBody = z.strictObject({});
/** The spec itself is checked by mcp.ts, which knows Codex's rules (one transport, no inline token). */
const McpAddBody = z.looseObject({ name: z.string().min(1, 'give the server a name') });
const McpEditBody = z.looseObject({});

const state = (gw: AdminHost): StateContext => ({ paths: gw.paths, store: gw.store, vault: gw.vault });

/** Plans and results without the whole before/after texts: the diff says what changes. */
const planView = ({ before: _b, after: _a, ...rest }: ProxyPlan) => rest;
const mcpView = (c: McpChange) => ({ server: c.server ?? null, diff: c.diff, backup: c.backup?.id ?? null });

/** Codex's config: the proxy switch, backups, MCP servers and Skills (issue 5). */
export const configRoutes: AdminRoutes = (router, gw) => {
  // The running gateway knows where it listens; `on` from here points Codex at exactly that.
  const gatewayUrl = () => gw.gatewayUrl();

  router.get('/proxy', async (ctx) => {
    ctx.body = await proxyStatus(state(gw));
  });
  router.get('/proxy/diff', async (ctx) => {
    const q = readQuery(ctx, ProxyDiffQuery);
    ctx.body = planView(await proxyPlan(state(gw), q.action, { mode: q.mode, gatewayUrl: gatewayUrl() }));
  });
  router.post('/proxy/on', async (ctx) => {
    const body = await readJson(ctx, ProxyOnBody);
    const { backup, ...result } = await proxyOn(state(gw), { mode: body.mode, gatewayUrl: gatewayUrl() });
    ctx.body = { ...planView(result), backup: backup?.id ?? null };
  });
  router.post('/proxy/off', async (ctx) => {
    await readJson(ctx, NoBody);
    const { backup, ...result } = await proxyOff(state(gw));
    ctx.body = { ...planView(result), backup: backup?.id ?? null };
  });

  router.get('/backups', async (ctx) => {
    ctx.body = await listBackups(state(gw));
  });
  router.post('/backups', async (ctx) => {
    const body = await readJson(ctx, BackupBody);
    ctx.status = 201;
    ctx.body = await createBackup(state(gw), { reason: 'manual', note: body.note });
  });
  router.post('/backups/prune', async (ctx) => {
    await readJson(ctx, NoBody);
    ctx.body = await pruneBackups(state(gw));
  });
  router.get('/backups/:id/diff', async (ctx) => {
    ctx.body = await backupDiff(state(gw), ctx.params.id!);
  });
  router.post('/backups/:id/restore', async (ctx) => {
    await readJson(ctx, NoBody);
    ctx.body = await restoreBackup(state(gw), ctx.params.id!);
  });

  router.get('/mcp', async (ctx) => {
    ctx.body = await listMcp(state(gw));
  });
  router.post('/mcp', async (ctx) => {
    const { name, ...spec } = await readJson(ctx, McpAddBody);
    ctx.status = 201;
    ctx.body = mcpView(await addMcp(state(gw), name, spec));
  });
  router.put('/mcp/:name', async (ctx) => {
    const patch = await readJson(ctx, McpEditBody);
    ctx.body = mcpView(await editMcp(state(gw), ctx.params.name!, patch));
  });
  const toggle = (enabled: boolean) => async (ctx: Context) => {
    await readJson(ctx, NoBody);
    ctx.body = mcpView(await setMcpEnabled(state(gw), (ctx.params as { name: string }).name, enabled));
  };
  router.post('/mcp/:name/enable', toggle(true));
  router.post('/mcp/:name/disable', toggle(false));
  router.delete('/mcp/:name', async (ctx) => {
    ctx.body = mcpView(await removeMcp(state(gw), ctx.params.name!));
  });

  router.get('/skills', async (ctx) => {
    ctx.body = await listSkills(state(gw));
  });
  router.post('/skills/:name/install', async (ctx) => {
    await readJson(ctx, NoBody);
    ctx.body = await installSkill(state(gw), ctx.params.name!);
  });
  router.delete('/skills/:name', async (ctx) => {
    ctx.body = await removeSkill(state(gw), ctx.params.name!);
  });
};

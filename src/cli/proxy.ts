import { parseArgs } from 'node:util';
import { proxyOff, proxyOn, proxyPlan, proxyStatus, type ProxyResult, type ProxyStatus } from '../state/codex/proxy.js';
import { CliError, type CliContext, type Command } from './context.js';
import { gatewayUrl, stateContext } from './state-context.js';

const USAGE = `aigate proxy <on|off|status|diff> [--mode base-url|provider] [--gateway-url URL] [--json]
  on      point Codex at the gateway. Default mode base-url: top-level openai_base_url, which keeps
          the provider id "openai" so existing sessions stay in \`codex resume\`. --mode provider:
          model_provider = "aigate" and [model_providers.aigate] (then see \`aigate history migrate\`).
          A user's own model_provider with a base_url has only that base_url repointed.
  off     undo on: the exact earlier bytes if config.toml is untouched since, else only AI Gate's keys
  status  on/off, mode, and whether config.toml was edited outside AI Gate since
  diff [on|off]  the unified diff that on (or off) would write; changes nothing
Every write backs up config.toml, auth.json and AI Gate's store first (\`aigate backup list\`).`;

function describeStatus(s: ProxyStatus): string {
  const lines = [`proxy: ${s.enabled ? `on (${s.mode})` : 'off'}${s.conflict ? ' — config.toml edited outside AI Gate' : ''}`, `  ${s.note}`, `  config: ${s.configPath}`];
  if (s.baseUrl) lines.push(`  base_url: ${s.baseUrl}`);
  if (s.authPlaceholder) lines.push('  auth.json: placeholder login written by AI Gate (the gateway ignores it)');
  return lines.join('\n');
}

function report(ctx: CliContext, json: boolean, r: ProxyResult): void {
  if (json) return ctx.json({ ...r, before: undefined, after: undefined });
  if (!r.changed) {
    ctx.out(`Nothing to change: proxy is already ${r.action}.`);
  } else {
    if (r.diff) ctx.out(r.diff.trimEnd());
    if (r.auth !== 'unchanged') ctx.out(`auth.json: ${r.auth}`);
    ctx.out(`Backup ${r.backup?.id} taken first (\`aigate backup restore ${r.backup?.id}\` undoes this).`);
  }
  ctx.out(describeStatus(r.status));
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'point Codex at the gateway or back (on, off, status, diff), with a backup first',
  usage: USAGE,
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: { mode: { type: 'string' }, 'gateway-url': { type: 'string' }, json: { type: 'boolean' } },
      allowPositionals: true,
    });
    const [verb = 'status', target] = positionals;
    const mode = values.mode;
    if (mode !== undefined && mode !== 'base-url' && mode !== 'provider') throw new CliError(`--mode ${mode} is not base-url or provider`, 2);
    if (mode !== undefined && verb !== 'on' && verb !== 'diff') throw new CliError(`--mode goes with on or diff, not ${verb}`, 2);
    const opts = { mode: mode as 'base-url' | 'provider' | undefined, gatewayUrl: gatewayUrl(ctx, values['gateway-url']) };
    const state = await stateContext(ctx);
    const json = !!values.json;
    switch (verb) {
      case 'on':
        return report(ctx, json, await proxyOn(state, opts));
      case 'off':
        return report(ctx, json, await proxyOff(state));
      case 'status': {
        const s = await proxyStatus(state);
        return json ? ctx.json(s) : ctx.out(describeStatus(s));
      }
      case 'diff': {
        if (target !== undefined && target !== 'on' && target !== 'off') throw new CliError(`usage: aigate proxy diff [on|off]`, 2);
        const action = (target as 'on' | 'off' | undefined) ?? ((await proxyStatus(state)).enabled && !mode ? 'off' : 'on');
        const plan = await proxyPlan(state, action, opts);
        if (json) return ctx.json({ ...plan, before: undefined, after: undefined });
        ctx.out(plan.diff ? plan.diff.trimEnd() : `\`aigate proxy ${action}\` would not change config.toml.`);
        if (plan.auth !== 'unchanged') ctx.out(`auth.json: ${plan.auth}`);
        return;
      }
      default:
        throw new CliError(`unknown proxy verb "${verb}"\n${USAGE}`, 2);
    }
  },
};

import { parseArgs } from 'node:util';
import { addMcp, editMcp, listMcp, removeMcp, setMcpEnabled, type McpChange, type McpServerView } from '../state/codex/mcp.js';
import { CliError, type CliContext, type Command } from './context.js';
import { stateContext } from './state-context.js';
import { table } from './table.js';

const USAGE = `aigate mcp <list|add|edit|enable|disable|remove> [NAME] [options] [--json]
  list
  add NAME [--env KEY=VALUE|KEY]… [--env-var NAME]… [--cwd DIR] -- CMD [ARG…]
  add NAME --command CMD [--arg A]…   (the same; write --arg=-y for an argument starting with -)
  add NAME --url URL [--bearer-token-env-var VAR] [--header NAME=VALUE]… [--env-header NAME=VAR]…
           either kind: [--startup-timeout SEC] [--tool-timeout SEC] [--enable-tool T]… [--disable-tool T]…
           [--required] [--disabled]
  edit NAME [the same options] [--unset KEY]…   options given replace those keys whole
  enable NAME | disable NAME | remove NAME
--env KEY (no value) takes the value from this shell's environment. Tokens belong in environment
variables: an inline bearer token is refused. Every change is backed up first.`;

const OPTIONS = {
  command: { type: 'string' },
  arg: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  'env-var': { type: 'string', multiple: true },
  cwd: { type: 'string' },
  url: { type: 'string' },
  'bearer-token-env-var': { type: 'string' },
  'bearer-token': { type: 'string' },
  header: { type: 'string', multiple: true },
  'env-header': { type: 'string', multiple: true },
  'startup-timeout': { type: 'string' },
  'tool-timeout': { type: 'string' },
  'enable-tool': { type: 'string', multiple: true },
  'disable-tool': { type: 'string', multiple: true },
  required: { type: 'boolean' },
  disabled: { type: 'boolean' },
  unset: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function pairs(list: string[] | undefined, flag: string, env?: NodeJS.ProcessEnv): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
    else if (env && env[item] !== undefined) out[item] = env[item]!;
    else throw new CliError(`--${flag} ${item}: expected KEY=VALUE${env ? ' (or KEY set in this shell)' : ''}`, 2);
  }
  return out;
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${flag} ${value}: expected a number of seconds`, 2);
  return n;
}

/** The flags as an MCP spec; only the keys whose flags were given. */
function specFrom(v: Values, env: NodeJS.ProcessEnv): Record<string, unknown> {
  if (v['bearer-token'] !== undefined) {
    throw new CliError('refusing --bearer-token: Codex rejects an inline token and it would sit in config.toml in the clear; export it and pass --bearer-token-env-var NAME', 2);
  }
  const spec: Record<string, unknown> = {
    command: v.command,
    args: v.arg,
    env: pairs(v.env, 'env', env),
    env_vars: v['env-var'],
    cwd: v.cwd,
    url: v.url,
    bearer_token_env_var: v['bearer-token-env-var'],
    http_headers: pairs(v.header, 'header'),
    env_http_headers: pairs(v['env-header'], 'env-header'),
    startup_timeout_sec: seconds(v['startup-timeout'], 'startup-timeout'),
    tool_timeout_sec: seconds(v['tool-timeout'], 'tool-timeout'),
    enabled_tools: v['enable-tool'],
    disabled_tools: v['disable-tool'],
    required: v.required,
    enabled: v.disabled ? false : undefined,
  };
  for (const key of v.unset ?? []) spec[key] = null;
  return Object.fromEntries(Object.entries(spec).filter(([, x]) => x !== undefined));
}

function describe(s: McpServerView): string[] {
  const what = s.transport === 'stdio' ? [s.command, ...(s.args ?? [])].join(' ') : s.transport === 'http' ? s.url! : '(neither command nor url)';
  const extra = [s.envNames?.length ? `env: ${s.envNames.join(', ')}` : '', s.bearer_token_env_var ? `token from $${s.bearer_token_env_var}` : '', s.required ? 'required' : ''].filter(Boolean).join('; ');
  return [s.name, s.transport, s.enabled ? 'enabled' : 'disabled', what, extra];
}

function report(ctx: CliContext, json: boolean, name: string, what: string, change: McpChange): void {
  if (json) return ctx.json({ server: change.server ?? null, diff: change.diff, backup: change.backup?.id ?? null });
  if (!change.diff) return ctx.out(`${name}: nothing to change`);
  ctx.out(change.diff.trimEnd());
  ctx.out(`${name} ${what}; backup ${change.backup?.id} taken first.`);
}

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'list, add, edit, enable, disable and remove MCP servers in config.toml',
  usage: USAGE,
  async run(args, ctx) {
    // `aigate mcp add NAME -- npx -y pkg`: everything after `--` is the command and its arguments, dashes and all.
    const dash = args.indexOf('--');
    const tail = dash >= 0 ? args.slice(dash + 1) : [];
    let parsed;
    try {
      parsed = parseArgs({ args: dash >= 0 ? args.slice(0, dash) : args, options: OPTIONS, allowPositionals: true });
    } catch (err) {
      throw new CliError(`${(err as Error).message.split('\n')[0]} — an argument that starts with "-" goes after \`--\` (aigate mcp add NAME -- CMD ARG…) or as --arg=-y`, 2);
    }
    const { values, positionals } = parsed;
    if (tail.length) {
      if (values.command !== undefined || values.arg !== undefined) throw new CliError('give the command either after `--` or with --command/--arg, not both', 2);
      values.command = tail[0];
      values.arg = tail.slice(1);
    }
    const [verb = 'list', name] = positionals;
    const json = !!values.json;
    const state = await stateContext(ctx);
    const need = () => {
      if (!name) throw new CliError(`usage: aigate mcp ${verb} NAME`, 2);
      return name;
    };
    switch (verb) {
      case 'list': {
        const list = await listMcp(state);
        if (json) return ctx.json(list);
        if (!list.length) return ctx.out('No MCP servers in config.toml. Add one with `aigate mcp add NAME --command CMD` or `--url URL`.');
        return ctx.out(table([['NAME', 'KIND', 'STATE', 'RUNS', 'DETAIL'], ...list.map(describe)]));
      }
      case 'add':
        return report(ctx, json, need(), 'added', await addMcp(state, need(), specFrom(values, ctx.env)));
      case 'edit': {
        const spec = specFrom(values, ctx.env);
        if (!Object.keys(spec).length) throw new CliError('aigate mcp edit NAME needs at least one option to change (see aigate mcp --help)', 2);
        return report(ctx, json, need(), 'changed', await editMcp(state, need(), spec));
      }
      case 'enable':
      case 'disable':
        return report(ctx, json, need(), `${verb}d`, await setMcpEnabled(state, need(), verb === 'enable'));
      case 'remove':
        return report(ctx, json, need(), 'removed', await removeMcp(state, need()));
      default:
        throw new CliError(`unknown mcp verb "${verb}"\n${USAGE}`, 2);
    }
  },
};

import { z } from 'zod';
import { changeConfig, type ConfigChange } from './config-change.js';
import { parseConfig, readCodexConfig } from './config.js';
import { editToml } from './toml-edit.js';
import type { StateContext } from '../context.js';
import type { TomlEdit } from './toml-edit.js';
import { isTable, type TomlTable, type TomlValue } from './toml-value.js';
import { UserError } from '../user-error.js';

/**
 * `[mcp_servers.NAME]` in config.toml, validated the way Codex reads it
 * (codex-protocol.md): stdio (`command` …) or streamable HTTP (`url` …), never
 * both, and never an inline `bearer_token`.
 */
export class McpError extends UserError {}

const STDIO_KEYS = ['command', 'args', 'env', 'env_vars', 'cwd'] as const;
const HTTP_KEYS = ['url', 'bearer_token_env_var', 'http_headers', 'env_http_headers'] as const;
const COMMON_KEYS = ['enabled', 'required', 'startup_timeout_sec', 'tool_timeout_sec', 'enabled_tools', 'disabled_tools'] as const;
/** The order AI Gate writes keys in a new table. */
const KEY_ORDER = [...STDIO_KEYS, ...HTTP_KEYS, ...COMMON_KEYS];
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name (letters, digits, _)');
const text = z.string().min(1, 'must not be empty');
const fields = {
  command: text,
  args: z.array(z.string()),
  env: z.record(envName, z.string()),
  env_vars: z.array(envName),
  cwd: text,
  url: z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL'),
  bearer_token_env_var: envName,
  http_headers: z.record(text, z.string()),
  env_http_headers: z.record(text, envName),
  enabled: z.boolean(),
  required: z.boolean(),
  startup_timeout_sec: z.number().positive().max(3600),
  tool_timeout_sec: z.number().positive().max(86_400),
  enabled_tools: z.array(text),
  disabled_tools: z.array(text),
};
/** What `add` takes, and what `edit` takes: the same keys, where `null` removes one. */
const specSchema = z.strictObject(fields).partial();
const patchSchema = z.strictObject(Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, s.nullable()]))).partial();

export type McpSpec = z.infer<typeof specSchema>;
export type McpPatch = { [K in keyof McpSpec]?: McpSpec[K] | null };

/** A server as the CLI and the admin API show it: env and header values are left out, they often hold keys. */
export interface McpServerView {
  name: string;
  transport: 'stdio' | 'http' | 'unknown';
  enabled: boolean;
  required: boolean;
  command?: string;
  args?: string[];
  cwd?: string;
  envNames?: string[];
  env_vars?: string[];
  url?: string;
  bearer_token_env_var?: string;
  httpHeaderNames?: string[];
  startup_timeout_sec?: number;
  tool_timeout_sec?: number;
  enabled_tools?: string[];
  disabled_tools?: string[];
}

export function checkMcpName(name: string): string {
  if (!NAME.test(name)) throw new McpError(`"${String(name).slice(0, 80)}" is not a usable MCP server name: use 1–64 letters, digits, "_" or "-" (as Codex requires)`);
  return name;
}

function parseInput<T>(schema: z.ZodType<T>, input: unknown, name: string): T {
  if (isTable(input) && 'bearer_token' in input) {
    throw new McpError(`${name}: an inline bearer_token is refused (Codex rejects it, and it would sit in config.toml in the clear); put the token in an environment variable and set bearer_token_env_var to its name`);
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')} (known: ${KEY_ORDER.join(', ')})`;
      // A bad key in env/headers: zod nests the reason.
      if (i.code === 'invalid_key') return `${i.path.join('.')}: the key ${i.issues[0]?.message ?? 'is not allowed'}`;
      return `${i.path.join('.') || 'spec'} ${i.message}`;
    });
    throw new McpError(`${name}: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** One transport per server, as Codex insists. */
function checkTransport(name: string, entry: Record<string, unknown>): void {
  const stdio = STDIO_KEYS.filter((k) => entry[k] !== undefined);
  const http = HTTP_KEYS.filter((k) => entry[k] !== undefined);
  if (stdio.length && http.length) {
    throw new McpError(`${name}: mixes stdio keys (${stdio.join(', ')}) with HTTP keys (${http.join(', ')}); a server is either a command or a url — remove one set`);
  }
  if (entry.command === undefined && entry.url === undefined) throw new McpError(`${name}: needs either command (a stdio server) or url (an HTTP server)`);
  if ('bearer_token' in entry) throw new McpError(`${name}: config.toml has an inline bearer_token, which Codex rejects; move it to an environment variable and set bearer_token_env_var`);
}

function servers(data: TomlTable): TomlTable {
  return isTable(data.mcp_servers) ? data.mcp_servers : {};
}

function view(name: string, e: TomlTable): McpServerView {
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const out: McpServerView = {
    name,
    transport: typeof e.command === 'string' ? 'stdio' : typeof e.url === 'string' ? 'http' : 'unknown',
    enabled: e.enabled !== false,
    required: e.required === true,
    command: str(e.command),
    args: strings(e.args),
    cwd: str(e.cwd),
    envNames: isTable(e.env) ? Object.keys(e.env) : undefined,
    env_vars: strings(e.env_vars),
    url: str(e.url),
    bearer_token_env_var: str(e.bearer_token_env_var),
    httpHeaderNames: isTable(e.http_headers) ? Object.keys(e.http_headers) : undefined,
    startup_timeout_sec: num(e.startup_timeout_sec),
    tool_timeout_sec: num(e.tool_timeout_sec),
    enabled_tools: strings(e.enabled_tools),
    disabled_tools: strings(e.disabled_tools),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as McpServerView;
}

export async function listMcp(ctx: StateContext): Promise<McpServerView[]> {
  const config = await readCodexConfig(ctx.paths);
  return Object.entries(servers(config.data))
    .filter(([, e]) => isTable(e))
    .map(([name, e]) => view(name, e as TomlTable));
}

export interface McpChange extends ConfigChange {
  server?: McpServerView;
}

function existing(data: TomlTable, name: string): TomlTable {
  const entry = servers(data)[name];
  if (!isTable(entry)) throw new McpError(`no MCP server "${name}" in config.toml; \`aigate mcp list\` shows the ones there are`, 404);
  return entry;
}

async function change(ctx: StateContext, name: string, edits: (data: TomlTable) => TomlEdit[]): Promise<McpChange> {
  let server: McpServerView | undefined;
  const result = await changeConfig(ctx, 'mcp-edit', (config) => {
    const after = editToml(config.text, edits(config.data));
    const entry = servers(parseConfig(after))[name];
    server = isTable(entry) ? view(name, entry) : undefined;
    return after;
  });
  return { ...result, server };
}

export async function addMcp(ctx: StateContext, name: string, input: unknown): Promise<McpChange> {
  checkMcpName(name);
  const spec = parseInput(specSchema, input, name);
  checkTransport(name, spec);
  const table = Object.fromEntries(KEY_ORDER.filter((k) => spec[k] !== undefined).map((k) => [k, spec[k] as TomlValue]));
  return change(ctx, name, (data) => {
    if (servers(data)[name] !== undefined) throw new McpError(`an MCP server "${name}" already exists; change it with \`aigate mcp edit ${name}\``, 409);
    return [{ op: 'add-table', path: ['mcp_servers', name], value: table }];
  });
}

/** Changes the keys given; `null` removes a key. The result must still be one valid server. */
export async function editMcp(ctx: StateContext, name: string, input: unknown): Promise<McpChange> {
  checkMcpName(name);
  const patch = parseInput(patchSchema, input, name) as McpPatch;
  return change(ctx, name, (data) => {
    const merged: Record<string, unknown> = { ...existing(data, name) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else if (v !== undefined) merged[k] = v;
    }
    checkTransport(name, merged);
    return Object.entries(patch)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]): TomlEdit => (v === null ? { op: 'delete', path: ['mcp_servers', name, k] } : { op: 'set', path: ['mcp_servers', name, k], value: v as TomlValue }));
  });
}

/** Enabling removes `enabled = false` (Codex's default is on), so disable + enable gives back the same bytes. */
export async function setMcpEnabled(ctx: StateContext, name: string, enabled: boolean): Promise<McpChange> {
  checkMcpName(name);
  return change(ctx, name, (data) => {
    const entry = existing(data, name);
    if (enabled) return entry.enabled === undefined ? [] : [{ op: 'delete', path: ['mcp_servers', name, 'enabled'] }];
    return [{ op: 'set', path: ['mcp_servers', name, 'enabled'], value: false }];
  });
}

export async function removeMcp(ctx: StateContext, name: string): Promise<McpChange> {
  checkMcpName(name);
  return change(ctx, name, (data) => {
    existing(data, name);
    return [{ op: 'delete', path: ['mcp_servers', name] }];
  });
}

/**
 * An MCP server as the popover edits it, and the conversions to and from the
 * admin API's JSON (src/state/codex/mcp.ts: Codex's own `[mcp_servers.NAME]` keys;
 * env values are never sent back, only their names).
 */

export interface McpServer {
  name: string;
  transport: 'stdio' | 'http' | 'unknown';
  enabled: boolean;
  command?: string;
  args?: string[];
  envNames?: string[];
  url?: string;
  bearer_token_env_var?: string;
  startup_timeout_sec?: number;
  tool_timeout_sec?: number;
}

export const toServers = (data: unknown): McpServer[] => (Array.isArray(data) ? (data as McpServer[]) : []);

/** One line: the command with its arguments, or the URL. */
export function serverSummary(s: McpServer): string {
  if (s.url) return s.url;
  return [s.command, ...(s.args ?? [])]
    .filter((a): a is string => !!a)
    .map((a) => (/\s/.test(a) ? JSON.stringify(a) : a))
    .join(' ');
}

export interface McpDraft {
  name: string;
  transport: 'stdio' | 'http';
  command: string;
  /** One argument per line. */
  args: string;
  /** `KEY=value` per line; empty while editing keeps the values already set. */
  env: string;
  url: string;
  bearerTokenEnvVar: string;
  startupTimeoutSec: string;
  toolTimeoutSec: string;
}

export function toDraft(s?: McpServer): McpDraft {
  return {
    name: s?.name ?? '',
    transport: s?.transport === 'http' ? 'http' : 'stdio',
    command: s?.command ?? '',
    args: (s?.args ?? []).join('\n'),
    env: '',
    url: s?.url ?? '',
    bearerTokenEnvVar: s?.bearer_token_env_var ?? '',
    startupTimeoutSec: s?.startup_timeout_sec === undefined ? '' : String(s.startup_timeout_sec),
    toolTimeoutSec: s?.tool_timeout_sec === undefined ? '' : String(s.tool_timeout_sec),
  };
}

const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

function envTable(text: string): Record<string, string> {
  return Object.fromEntries(
    lines(text).map((l) => {
      const at = l.indexOf('=');
      return at < 0 ? [l, ''] : [l.slice(0, at).trim(), l.slice(at + 1)];
    }),
  );
}

/** The spec for a new server: only what was filled in, so the gateway's validation names what is missing. */
export function specFrom(d: McpDraft): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (d.transport === 'stdio') {
    if (d.command.trim()) spec.command = d.command.trim();
    if (lines(d.args).length) spec.args = lines(d.args);
    if (lines(d.env).length) spec.env = envTable(d.env);
  } else {
    if (d.url.trim()) spec.url = d.url.trim();
    if (d.bearerTokenEnvVar.trim()) spec.bearer_token_env_var = d.bearerTokenEnvVar.trim();
  }
  if (d.startupTimeoutSec.trim()) spec.startup_timeout_sec = Number(d.startupTimeoutSec);
  if (d.toolTimeoutSec.trim()) spec.tool_timeout_sec = Number(d.toolTimeoutSec);
  return spec;
}

/** The edit for an existing server: changed keys, `null` for cleared ones and for the other transport's keys. */
export function patchFrom(before: McpServer, d: McpDraft): Record<string, unknown> {
  const after = specFrom(d);
  const patch: Record<string, unknown> = {};
  const had: Record<string, unknown> = {
    command: before.command,
    args: before.args,
    url: before.url,
    bearer_token_env_var: before.bearer_token_env_var,
    startup_timeout_sec: before.startup_timeout_sec,
    tool_timeout_sec: before.tool_timeout_sec,
  };
  for (const key of Object.keys(had)) {
    if (after[key] === undefined) {
      if (had[key] !== undefined) patch[key] = null;
    } else if (JSON.stringify(after[key]) !== JSON.stringify(had[key])) patch[key] = after[key];
  }
  // Env values are never shown, so an empty box keeps them; a switch to HTTP drops them.
  if (after.env !== undefined) patch.env = after.env;
  else if (d.transport === 'http' && before.envNames?.length) patch.env = null;
  return patch;
}

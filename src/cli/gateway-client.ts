import { parseListen } from '../proxy/listen-address.js';
import { readTextIfExists } from '../state/files.js';
import { adminTokenFile } from '../state/paths.js';
import { CliError, type CliContext } from './context.js';

/**
 * How CLI verbs talk to the running gateway's admin API: where it listens
 * (`--listen`, else `AIGATE_LISTEN`, as `aigate serve` reads them) and the
 * per-install token in `$AIGATE_HOME/data/admin-token`.
 */
export function gatewayOrigin(ctx: CliContext, listen: string | undefined): string {
  const address = parseListen(listen ?? ctx.env.AIGATE_LISTEN);
  const host = address.host === 'localhost' ? '127.0.0.1' : address.host.includes(':') ? `[${address.host}]` : address.host;
  return `http://${host}:${address.port}`;
}

export type AdminCall =
  | { ok: true; status: number; body: Record<string, unknown> | undefined }
  | { ok: false; problem: 'no-token' | 'no-gateway' | 'other-home' | 'refused'; message: string };

/** One admin API request; what went wrong comes back as a `problem` with a message that says what to do. */
export async function callAdmin(ctx: CliContext, origin: string, method: string, path: string, timeoutMs = 10_000): Promise<AdminCall> {
  const tokenFile = adminTokenFile(ctx.paths);
  const token = (await readTextIfExists(tokenFile))?.trim();
  if (!token) return { ok: false, problem: 'no-token', message: `${tokenFile} does not exist: start the gateway once (\`aigate serve\` or the tray) to create it` };
  let res: Response;
  try {
    res = await fetch(`${origin}/aigate/api/${path}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    return { ok: false, problem: 'no-gateway', message: `no AI Gate gateway answers on ${origin}: start it with \`aigate serve\` (or pass --listen HOST:PORT)` };
  }
  const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (res.status === 401) {
    return { ok: false, problem: 'other-home', message: `the gateway on ${origin} refused the admin token in ${tokenFile}: it belongs to another AI Gate home (check AIGATE_HOME)` };
  }
  if (!res.ok) {
    const detail = (body?.error as { message?: string } | undefined)?.message;
    return { ok: false, problem: 'refused', message: `the gateway on ${origin} answered ${res.status}${detail ? `: ${detail}` : ''}` };
  }
  return { ok: true, status: res.status, body };
}

/** `callAdmin` for verbs that cannot go on without the gateway: a problem is the command's error. */
export async function requireAdmin(ctx: CliContext, origin: string, method: string, path: string): Promise<Record<string, unknown> | undefined> {
  const result = await callAdmin(ctx, origin, method, path);
  if (!result.ok) throw new CliError(result.message);
  return result.body;
}

import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import type { Context, Next } from 'koa';
import { createFileOnce, FILE_MODE, readTextIfExists } from '../state/files.js';
import { adminTokenFile, type Paths } from '../state/paths.js';
import { GatewayError } from '../proxy/errors.js';
import type { Clock } from '../state/clock.js';

export const SESSION_COOKIE = 'aigate_session';
export const CODE_TTL_MS = 2 * 60_000;
const MAX_SESSIONS = 64;
const MAX_CODES = 64;
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const random = () => crypto.randomBytes(32).toString('base64url');
const digest = (s: string) => crypto.createHash('sha256').update(s).digest();

/** Reads `data/admin-token`, creating it (0600) on the first start. */
export async function loadAdminToken(paths: Paths): Promise<string> {
  const file = adminTokenFile(paths);
  const existing = (await readTextIfExists(file))?.trim();
  if (existing !== undefined) {
    if (existing.length < 32) throw new GatewayError(500, `${file} does not hold an AI Gate admin token; delete it and start the gateway again to make a new one`, 'server_error', 'bad_admin_token');
    return existing;
  }
  const token = random();
  // The tray and `aigate serve` starting together on a new install must not each keep a different token.
  if (!(await createFileOnce(file, token + '\n', FILE_MODE))) return loadAdminToken(paths);
  await fs.chmod(file, FILE_MODE);
  return token;
}

/**
 * Who may use the admin API: holders of the per-install token (Bearer) or of a
 * session cookie obtained through a one-time login link. Sessions and codes
 * live in memory only, so a restart signs every browser out.
 */
export class AdminAuth {
  private readonly tokenDigest: Buffer;
  private readonly sessions = new Map<string, number>();
  private readonly codes = new Map<string, number>();

  constructor(
    token: string,
    private readonly clock: Clock,
  ) {
    this.tokenDigest = digest(token);
  }

  /** A login code valid once, for two minutes. */
  issueCode(): { code: string; expiresAt: number } {
    this.dropExpiredCodes();
    if (this.codes.size >= MAX_CODES) this.codes.delete(this.codes.keys().next().value!);
    const code = random();
    const expiresAt = this.clock.now() + CODE_TTL_MS;
    this.codes.set(code, expiresAt);
    return { code, expiresAt };
  }

  /** Spends a login code; a new session id when it was valid. */
  redeem(code: string): string | undefined {
    const expiresAt = this.codes.get(code);
    this.codes.delete(code);
    if (expiresAt === undefined || expiresAt < this.clock.now()) return undefined;
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const session = random();
    this.sessions.set(session, this.clock.now());
    return session;
  }

  allows(ctx: Context): boolean {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'))?.[1];
    if (bearer !== undefined) return crypto.timingSafeEqual(digest(bearer), this.tokenDigest);
    const session = ctx.cookies.get(SESSION_COOKIE);
    return !!session && this.sessions.has(session);
  }

  private dropExpiredCodes(): void {
    const now = this.clock.now();
    for (const [code, expiresAt] of this.codes) if (expiresAt < now) this.codes.delete(code);
  }
}

/** The origin the gateway is reached at, from a Host already checked by `guardAdmin`. */
export const ownOrigin = (ctx: Context) => `http://${ctx.get('host')}`;

/**
 * In front of everything under `/aigate`: the Host must name this gateway on
 * loopback (a DNS-rebound name is refused), and a state-changing request from
 * a page of another origin is refused. No CORS header is ever set.
 */
export async function guardAdmin(ctx: Context, next: Next): Promise<void> {
  const port = ctx.req.socket.localPort;
  const host = ctx.get('host').toLowerCase();
  if (![`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host)) {
    throw new GatewayError(403, `Host "${host.slice(0, 100)}" is refused: open AI Gate at http://127.0.0.1:${port}/aigate/`, 'invalid_request_error', 'forbidden_host');
  }
  if (STATE_CHANGING.has(ctx.method)) {
    const origin = ctx.get('origin');
    if ((origin && origin !== ownOrigin(ctx)) || ctx.get('sec-fetch-site') === 'cross-site') {
      throw new GatewayError(403, `requests from ${origin || 'another site'} may not change AI Gate; use the AI Gate pages at ${ownOrigin(ctx)}/aigate/`, 'invalid_request_error', 'forbidden_origin');
    }
  }
  ctx.set({
    'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
  await next();
}

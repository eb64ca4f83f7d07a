import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { through, type GotVia } from '../net/upstream-net.js';
import { httpClient } from '../net/http-client.js';

/**
 * Signing in with ChatGPT the way Codex does (codex-protocol.md; openai/codex
 * codex-rs/login/src/server.rs): PKCE S256 against the issuer's
 * `/oauth/authorize`, a loopback callback on `localhost:1455/auth/callback`,
 * and a form POST of the code to `/oauth/token`. Refresh (a JSON POST to the
 * same endpoint) lives here too, so every call to the auth server goes
 * through one place.
 */
export const CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';
export const DEFAULT_ISSUER = 'https://auth.openai.com';
export const SCOPE = 'openid profile email offline_access';
/** 1455 and 1457 are the ports the issuer accepts in Codex's redirect URI; 0 (any) only helps a local issuer. */
export const CALLBACK_PORTS = [1455, 1457, 0];
const LOGIN_TIMEOUT_MS = 10 * 60_000;
const REQUEST_TIMEOUT_MS = 20_000;

/** `AIGATE_AUTH_ISSUER` (sign-in, device code and the token endpoint), default https://auth.openai.com. */
export function authIssuer(env: NodeJS.ProcessEnv): string {
  return (env.AIGATE_AUTH_ISSUER || DEFAULT_ISSUER).replace(/\/+$/, '');
}

/** Ports to try for the callback: `AIGATE_LOGIN_PORT` when set, else Codex's. */
export function callbackPorts(env: NodeJS.ProcessEnv): number[] {
  const port = env.AIGATE_LOGIN_PORT;
  return port !== undefined && port !== '' && Number.isInteger(Number(port)) ? [Number(port)] : CALLBACK_PORTS;
}

/** What the token endpoint hands out; a refresh may leave any of them out. */
export interface TokenGrant {
  idToken?: string;
  accessToken?: string;
  refreshToken?: string;
}

export interface SignedIn {
  idToken?: string;
  accessToken: string;
  refreshToken: string;
}

/** Refresh failures that no retry can fix: the user has to sign in again (codex-protocol.md). */
const PERMANENT_CODES = new Set(['refresh_token_expired', 'refresh_token_reused', 'refresh_token_invalidated', 'token_revoked', 'invalid_grant']);

export class TokenEndpointError extends Error {
  readonly expose = true;
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }

  get permanent(): boolean {
    return this.status === 401 || (this.code !== undefined && PERMANENT_CODES.has(this.code));
  }

  /** Why the account needs sign-in, in words for the tray and the CLI. */
  get reason(): string {
    switch (this.code) {
      case 'refresh_token_reused':
        return 'its refresh token was already used elsewhere';
      case 'refresh_token_expired':
        return 'its refresh token expired';
      case 'refresh_token_invalidated':
      case 'token_revoked':
        return 'its refresh token was revoked';
      default:
        return `the auth server refused the refresh (HTTP ${this.status ?? '?'}${this.code ? `, ${this.code}` : ''})`;
    }
  }
}

/** `{"error":{"code":…}}`, `{"error":"…"}` or `{"code":…}`: the three shapes Codex reads. */
function errorCode(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const e = b.error;
  if (e && typeof e === 'object' && typeof (e as Record<string, unknown>).code === 'string') return (e as Record<string, string>).code;
  if (typeof e === 'string') return e;
  return typeof b.code === 'string' ? b.code : undefined;
}

async function postToken(issuer: string, what: string, body: { form?: Record<string, string>; json?: Record<string, string> }, via: GotVia = {}): Promise<TokenGrant> {
  let res;
  try {
    res = await (await httpClient()).post(`${issuer}/oauth/token`, {
      ...body,
      agent: via.agent,
      headers: { 'user-agent': 'aigate', accept: 'application/json' },
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: REQUEST_TIMEOUT_MS },
    });
  } catch (err) {
    throw new TokenEndpointError(`${what}: ${issuer} did not answer${through(via)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    parsed = undefined;
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const code = errorCode(parsed);
    // The body is the auth server's own words; it never echoes our tokens, but keep only the code to be sure.
    // 407 is the proxy's answer, not the auth server's: no status, so it never reads as a refused refresh token.
    if (res.statusCode === 407 && via.proxy) throw new TokenEndpointError(`${what}: the proxy ${via.proxy} asks for credentials (407); give user:password@ in the proxy URL`);
    throw new TokenEndpointError(`${what}: ${issuer} answered ${res.statusCode}${through(via)}${code ? ` (${code})` : ''}`, res.statusCode, code);
  }
  const p = (parsed ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return { idToken: str(p.id_token), accessToken: str(p.access_token), refreshToken: str(p.refresh_token) };
}

/** Why a refresh happens, in the words Codex sends (`refresh_reason`, seen with Codex 0.171). */
export type RefreshReason = 'proactive_expiry' | 'unauthorized_recovery';

/** Spends `refreshToken` (it rotates: the old one is dead once this succeeds). */
export function requestRefresh(issuer: string, refreshToken: string, reason: RefreshReason = 'proactive_expiry', via?: GotVia): Promise<TokenGrant> {
  return postToken(issuer, 'refreshing the ChatGPT token', { json: { client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_reason: reason, refresh_token: refreshToken } }, via);
}

export async function exchangeCode(issuer: string, input: { code: string; redirectUri: string; verifier: string }, via?: GotVia): Promise<SignedIn> {
  const grant = await postToken(
    issuer,
    'exchanging the sign-in code',
    { form: { grant_type: 'authorization_code', code: input.code, redirect_uri: input.redirectUri, client_id: CLIENT_ID, code_verifier: input.verifier } },
    via,
  );
  if (!grant.accessToken || !grant.refreshToken) throw new TokenEndpointError(`${issuer} signed you in but returned no access or refresh token`);
  return { idToken: grant.idToken, accessToken: grant.accessToken, refreshToken: grant.refreshToken };
}

export function createPkce(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(64).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(issuer: string, input: { redirectUri: string; challenge: string; state: string }): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: input.redirectUri,
    scope: SCOPE,
    code_challenge: input.challenge,
    code_challenge_method: 'S256',
    id_token_add_organizations: 'true',
    codex_cli_simplified_flow: 'true',
    state: input.state,
  });
  return `${issuer}/oauth/authorize?${query}`;
}

export interface PendingLogin {
  /** Open this in a browser. */
  url: string;
  port: number;
  /** Settles once the browser comes back (or the login is cancelled or times out). */
  done: Promise<SignedIn>;
  cancel(reason?: string): void;
}

/**
 * Starts a browser sign-in: a callback server on 127.0.0.1 (the first free
 * port of `ports`) and the authorize URL that leads back to it. A callback
 * whose `state` does not match is answered 400 and ignored, so a stray or
 * forged request cannot end the login.
 */
export async function startLogin(options: { issuer: string; ports?: number[]; timeoutMs?: number; keepAlive?: boolean; via?: GotVia }): Promise<PendingLogin> {
  const pkce = createPkce();
  const state = crypto.randomBytes(32).toString('base64url');
  let settle!: { resolve: (t: SignedIn) => void; reject: (e: Error) => void };
  const done = new Promise<SignedIn>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined); // a caller that never awaits must not crash the process
  let finished = false;
  let redirectUri = '';

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const page = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
      res.end(`<!doctype html><meta charset="utf-8"><title>AI Gate</title><p style="font:16px system-ui;margin:3em">${text}</p>`);
    };
    if (url.pathname === '/cancel') {
      page(200, 'Sign-in cancelled.');
      return finish(new Error('sign-in was cancelled'));
    }
    if (url.pathname !== '/auth/callback') return page(404, 'Not found.');
    if (finished) return page(410, 'This sign-in is already finished; you can close this tab.');
    if (url.searchParams.get('state') !== state) return page(400, 'State mismatch: this link does not belong to the sign-in AI Gate started.');
    const error = url.searchParams.get('error');
    if (error) {
      page(400, 'Sign-in was not completed. You can close this tab and try again.');
      return finish(new Error(`sign-in was refused: ${error}${url.searchParams.get('error_description') ? ` (${url.searchParams.get('error_description')!.slice(0, 200)})` : ''}`));
    }
    const code = url.searchParams.get('code');
    if (!code) return page(400, 'The sign-in came back without a code.');
    finished = true;
    exchangeCode(options.issuer, { code, redirectUri, verifier: pkce.verifier }, options.via).then(
      (tokens) => {
        page(200, 'Signed in to AI Gate. You can close this tab.');
        finish(tokens);
      },
      (err: Error) => {
        page(502, 'Sign-in failed while exchanging the code; see AI Gate for details.');
        finish(err);
      },
    );
  });

  const port = await listenOnFirstFree(server, options.ports ?? CALLBACK_PORTS);
  // A CLI waiting for the browser stays alive; a gateway's pending sign-in must not hold the process open.
  if (options.keepAlive === false) server.unref();
  redirectUri = `http://localhost:${port}/auth/callback`;
  const timer = setTimeout(() => finish(new Error('sign-in timed out: the browser did not come back within 10 minutes')), options.timeoutMs ?? LOGIN_TIMEOUT_MS);
  timer.unref();

  function finish(outcome: SignedIn | Error): void {
    finished = true;
    clearTimeout(timer);
    server.close();
    server.closeIdleConnections();
    if (outcome instanceof Error) settle.reject(outcome);
    else settle.resolve(outcome);
  }

  return {
    url: authorizeUrl(options.issuer, { redirectUri, challenge: pkce.challenge, state }),
    port,
    done,
    cancel: (reason = 'sign-in was cancelled') => finish(new Error(reason)),
  };
}

async function listenOnFirstFree(server: http.Server, ports: number[]): Promise<number> {
  let last: Error | undefined;
  for (const port of ports) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    } catch (err) {
      last = err as Error;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  throw new Error(`cannot listen for the sign-in callback on 127.0.0.1 (ports ${ports.join(', ')}): ${last?.message}`);
}

/**
 * A fake `auth.openai.com` that behaves like the facts in codex-protocol.md and
 * the public openai/codex login code: PKCE authorize + code exchange (form
 * POST), refresh (JSON POST) that ROTATES refresh tokens and answers any reuse
 * with 401 `refresh_token_reused`, and the device-code endpoints. It listens
 * on 127.0.0.1 only, mints unsigned JWTs with the ChatGPT claims, and counts
 * every refresh so tests can assert on exactly who refreshed and when.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeJwt } from './_helpers.js';

export const CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

export interface Identity {
  accountId: string;
  userId: string;
  email: string;
  plan: string;
}

export interface RefreshCall {
  at: number;
  /** The refresh token presented. */
  token: string;
  outcome: 'rotated' | 'reused' | 'unknown' | 'scripted';
  userAgent?: string;
  /** `refresh_reason` as sent (Codex sends `proactive_expiry` or `unauthorized_recovery`). */
  reason?: string;
}

export interface IssuedTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  accountId: string;
}

export interface MockAuth {
  url: string;
  identity: Identity;
  /** Lifetime of minted access tokens. */
  accessTtlSeconds: number;
  /** Delay before answering a refresh, to widen races on purpose. */
  refreshDelayMs: number;
  refreshCalls: RefreshCall[];
  /** Called as each refresh is answered (after its outcome is known). */
  onRefresh?: (call: RefreshCall) => void;
  /** Every token set minted, oldest first (sign-ins, device codes, refreshes). */
  issued: IssuedTokens[];
  /** Refreshes rejected because the token had been used already. */
  reuseAttempts(): number;
  /** Successful rotations. */
  rotations(): number;
  /** Answers for the next token-endpoint calls (any grant), before the normal logic. */
  scripted: { status: number; body: unknown }[];
  /** A new token family, as if the user had signed in somewhere. */
  /** `ageSeconds` back-dates the access token's `iat`: a long-lived token near its end, not a short-lived one. */
  issue(options?: { accessTtlSeconds?: number; ageSeconds?: number }): IssuedTokens;
  isLiveRefreshToken(token: string): boolean;
  /** Issued by this server and not expired. */
  isLiveAccessToken(token: string): boolean;
  /** Marks a device code as approved by the user in "the browser". */
  approveDevice(userCode: string): void;
  devicePolls: number;
  /** The last `/oauth/authorize` query seen. */
  lastAuthorize?: URLSearchParams;
  close(): Promise<void>;
}

const b64url = (buf: Buffer) => buf.toString('base64url');
const random = (n = 24) => b64url(crypto.randomBytes(n));

export async function startMockAuth(identity: Partial<Identity> = {}): Promise<MockAuth> {
  const id: Identity = {
    accountId: identity.accountId ?? 'acct-shared',
    userId: identity.userId ?? 'user-shared',
    email: identity.email ?? 'shared@example.com',
    plan: identity.plan ?? 'pro',
  };
  const refreshTokens = new Map<string, 'live' | 'used'>();
  const accessTokens = new Map<string, number>(); // token → exp (s)
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const devices = new Map<string, { deviceAuthId: string; approved: boolean }>();
  const sockets = new Set<import('node:net').Socket>();

  const claims = () => ({ chatgpt_account_id: id.accountId, chatgpt_user_id: id.userId, user_id: id.userId, chatgpt_plan_type: id.plan });
  const mint = (ttl = mock.accessTtlSeconds, age = 0): IssuedTokens => {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + ttl;
    const accessToken = fakeJwt({ exp, iat: now - age, jti: random(8), 'https://api.openai.com/auth': claims() });
    const idToken = fakeJwt({ email: id.email, exp: now + 3600, iat: now, 'https://api.openai.com/auth': claims() });
    const refreshToken = `rt_${random()}`;
    accessTokens.set(accessToken, exp);
    refreshTokens.set(refreshToken, 'live');
    const tokens = { idToken, accessToken, refreshToken, accountId: id.accountId };
    mock.issued.push(tokens);
    return tokens;
  };
  const tokenJson = (t: IssuedTokens) => ({ id_token: t.idToken, access_token: t.accessToken, refresh_token: t.refreshToken, token_type: 'Bearer', expires_in: mock.accessTtlSeconds });

  const mock: MockAuth = {
    url: '',
    identity: id,
    accessTtlSeconds: 3600,
    refreshDelayMs: 0,
    refreshCalls: [],
    issued: [],
    reuseAttempts: () => mock.refreshCalls.filter((c) => c.outcome === 'reused').length,
    rotations: () => mock.refreshCalls.filter((c) => c.outcome === 'rotated').length,
    scripted: [],
    issue: (o = {}) => mint(o.accessTtlSeconds ?? mock.accessTtlSeconds, o.ageSeconds),
    isLiveRefreshToken: (t) => refreshTokens.get(t) === 'live',
    isLiveAccessToken: (t) => (accessTokens.get(t.replace(/^Bearer /, '')) ?? 0) > Date.now() / 1000,
    approveDevice: (userCode) => {
      const d = devices.get(userCode);
      if (!d) throw new Error(`mock-auth: no device code ${userCode}`);
      d.approved = true;
    },
    devicePolls: 0,
    close: async () => undefined,
  };

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', mock.url);
    const form = /x-www-form-urlencoded/.test(req.headers['content-type'] ?? '');
    let body: Record<string, string>;
    try {
      body = form ? Object.fromEntries(new URLSearchParams(text)) : text ? JSON.parse(text) : {};
    } catch {
      return send(res, 400, { error: 'invalid_request', error_description: 'body does not parse' });
    }

    if (req.method === 'GET' && url.pathname === '/oauth/authorize') {
      // The test "plays the browser": the user signs in and the issuer redirects back with a code.
      const q = url.searchParams;
      mock.lastAuthorize = q;
      const redirect = q.get('redirect_uri') ?? '';
      if (q.get('client_id') !== CLIENT_ID || q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || !/^http:\/\/localhost:\d+\/auth\/callback$/.test(redirect)) {
        return send(res, 400, { error: 'invalid_request', error_description: 'bad authorize parameters' });
      }
      const code = `code_${random()}`;
      codes.set(code, { challenge: q.get('code_challenge')!, redirectUri: redirect });
      const back = new URL(redirect);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }

    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      const scripted = mock.scripted.shift();
      if (body.grant_type === 'refresh_token') {
        const call: RefreshCall = { at: Date.now(), token: body.refresh_token ?? '', outcome: 'rotated', userAgent: req.headers['user-agent'], reason: body.refresh_reason };
        mock.refreshCalls.push(call);
        if (mock.refreshDelayMs) await new Promise((r) => setTimeout(r, mock.refreshDelayMs));
        res.once('finish', () => mock.onRefresh?.(call));
        if (scripted) {
          call.outcome = 'scripted';
          return send(res, scripted.status, scripted.body);
        }
        if (body.client_id !== CLIENT_ID) return send(res, 400, { error: 'invalid_client' });
        const state = refreshTokens.get(call.token);
        if (state === 'used') {
          call.outcome = 'reused';
          return send(res, 401, { error: { message: 'Your refresh token has already been used to generate a new access token.', type: 'invalid_request_error', param: null, code: 'refresh_token_reused' } });
        }
        if (state !== 'live') {
          call.outcome = 'unknown';
          return send(res, 401, { error: { message: 'refresh token is invalid', type: 'invalid_request_error', code: 'refresh_token_invalidated' } });
        }
        refreshTokens.set(call.token, 'used');
        return send(res, 200, tokenJson(mint()));
      }
      if (scripted) return send(res, scripted.status, scripted.body);
      if (body.grant_type === 'authorization_code') {
        if (!form) return send(res, 400, { error: 'invalid_request', error_description: 'the code exchange is a form POST' });
        const entry = codes.get(body.code ?? '');
        codes.delete(body.code ?? '');
        const challenge = b64url(crypto.createHash('sha256').update(body.code_verifier ?? '').digest());
        if (!entry || body.client_id !== CLIENT_ID || entry.redirectUri !== body.redirect_uri || entry.challenge !== challenge) {
          return send(res, 400, { error: 'invalid_grant', error_description: 'code, verifier or redirect_uri do not match' });
        }
        return send(res, 200, tokenJson(mint()));
      }
      return send(res, 400, { error: 'unsupported_grant_type' });
    }

    if (req.method === 'POST' && url.pathname === '/api/accounts/deviceauth/usercode') {
      if (body.client_id !== CLIENT_ID) return send(res, 400, { error: 'invalid_client' });
      const userCode = `${random(3).toUpperCase().slice(0, 4)}-${random(3).toUpperCase().slice(0, 4)}`;
      devices.set(userCode, { deviceAuthId: `dev_${random()}`, approved: false });
      // Codex reads `interval` as a string of seconds.
      return send(res, 200, { device_auth_id: devices.get(userCode)!.deviceAuthId, user_code: userCode, interval: '0' });
    }

    if (req.method === 'POST' && url.pathname === '/api/accounts/deviceauth/token') {
      mock.devicePolls++;
      const d = devices.get(body.user_code ?? '');
      if (!d || d.deviceAuthId !== body.device_auth_id) return send(res, 400, { error: 'unknown device code' });
      if (!d.approved) return send(res, 403, { error: 'authorization_pending' });
      devices.delete(body.user_code!);
      const verifier = random(32);
      const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
      const code = `code_${random()}`;
      codes.set(code, { challenge, redirectUri: `${mock.url}/deviceauth/callback` });
      return send(res, 200, { authorization_code: code, code_challenge: challenge, code_verifier: verifier });
    }

    send(res, 404, { error: `mock-auth: no route ${req.method} ${url.pathname}` });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mock.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mock.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return mock;
}

/** Codex's auth.json for tokens this server issued. */
export function authJsonFor(tokens: IssuedTokens, extra: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      auth_mode: 'chatgpt',
      OPENAI_API_KEY: null,
      tokens: { id_token: tokens.idToken, access_token: tokens.accessToken, refresh_token: tokens.refreshToken, account_id: tokens.accountId },
      last_refresh: new Date().toISOString(),
      ...extra,
    },
    null,
    2,
  );
}

/**
 * Plays the browser: opens the authorize URL, where the mock "user" signs in
 * at once, and follows the redirect back to the callback server.
 */
export async function playBrowser(authorizeUrl: string, tamper?: (callback: URL) => void): Promise<{ status: number; text: string }> {
  const issuer = await fetch(authorizeUrl, { redirect: 'manual' });
  const location = issuer.headers.get('location');
  if (issuer.status !== 302 || !location) throw new Error(`mock-auth: authorize answered ${issuer.status}: ${await issuer.text()}`);
  const callback = new URL(location);
  tamper?.(callback);
  const res = await fetch(callback);
  return { status: res.status, text: await res.text() };
}

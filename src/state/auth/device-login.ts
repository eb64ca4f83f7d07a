import { setTimeout as sleep } from 'node:timers/promises';
import { through, type GotVia } from '../net/upstream-net.js';
import { CLIENT_ID, exchangeCode, type SignedIn } from './oauth.js';
import { httpClient } from '../net/http-client.js';

/**
 * Signing in without a browser on this machine (`aigate accounts login --device`),
 * the way Codex's device-code login works (openai/codex
 * codex-rs/login/src/device_code_auth.rs): ask for a user code, let the user
 * enter it at `{issuer}/codex/device` on any device, poll until the issuer
 * hands back an authorization code with its PKCE pair, then exchange it.
 */
export interface DeviceCode {
  verificationUrl: string;
  userCode: string;
  deviceAuthId: string;
  intervalMs: number;
}

const MAX_WAIT_MS = 15 * 60_000;
const REQUEST_TIMEOUT_MS = 20_000;

async function post(url: string, json: Record<string, string>, via: GotVia = {}) {
  try {
    return await (await httpClient()).post(url, { json, agent: via.agent, headers: { 'user-agent': 'aigate' }, throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: REQUEST_TIMEOUT_MS } });
  } catch (err) {
    throw new Error(`device-code sign-in: ${new URL(url).origin} did not answer${through(via)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

export async function requestDeviceCode(issuer: string, via?: GotVia): Promise<DeviceCode> {
  const res = await post(`${issuer}/api/accounts/deviceauth/usercode`, { client_id: CLIENT_ID }, via);
  if (res.statusCode === 404) throw new Error(`${issuer} does not offer device-code sign-in; use \`aigate accounts login\` (browser) instead`);
  if (res.statusCode !== 200) throw new Error(`${issuer} refused a device code (HTTP ${res.statusCode})`);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  const userCode = String(body.user_code ?? body.usercode ?? '');
  if (!userCode || typeof body.device_auth_id !== 'string') throw new Error(`${issuer} answered the device-code request without a code`);
  // Codex reads `interval` as a string of seconds.
  const seconds = Number(String(body.interval ?? '5').trim());
  return { verificationUrl: `${issuer}/codex/device`, userCode, deviceAuthId: body.device_auth_id, intervalMs: (Number.isFinite(seconds) ? seconds : 5) * 1000 };
}

/** Polls until the user has entered the code (403/404 mean "not yet"), then exchanges the authorization code. */
export async function completeDeviceLogin(
  issuer: string,
  code: DeviceCode,
  options: { signal?: AbortSignal; maxWaitMs?: number; via?: GotVia } = {},
): Promise<SignedIn> {
  const deadline = Date.now() + (options.maxWaitMs ?? MAX_WAIT_MS);
  for (;;) {
    const res = await post(`${issuer}/api/accounts/deviceauth/token`, { device_auth_id: code.deviceAuthId, user_code: code.userCode }, options.via);
    if (res.statusCode === 200) {
      const body = JSON.parse(res.body) as Record<string, string>;
      if (!body.authorization_code || !body.code_verifier) throw new Error(`${issuer} approved the device code but sent no authorization code`);
      return exchangeCode(issuer, { code: body.authorization_code, redirectUri: `${issuer}/deviceauth/callback`, verifier: body.code_verifier }, options.via);
    }
    if (res.statusCode !== 403 && res.statusCode !== 404) throw new Error(`device-code sign-in failed: ${issuer} answered HTTP ${res.statusCode}`);
    if (Date.now() >= deadline) throw new Error('device-code sign-in timed out: the code was not entered within 15 minutes');
    // The issuer sets the pace; this wait is the protocol, not a guess.
    await sleep(Math.min(code.intervalMs, Math.max(0, deadline - Date.now())), undefined, { signal: options.signal });
  }
}

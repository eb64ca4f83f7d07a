import { applyQuota } from '../quota-history.js';
import type { AccountRecord, Quota, QuotaWindow } from '../schema.js';
import type { Store } from '../store.js';
import { through, type GotVia, type UpstreamNet } from '../net/upstream-net.js';
import type { TokenSource } from './tokens.js';
import { httpClient } from '../net/http-client.js';

/**
 * The official usage endpoint (`GET {backend}/wham/usage`, what Codex's
 * `/status` reads): the 5-hour (primary) and weekly (secondary) windows with
 * their reset times, for one ChatGPT account.
 */
export const DEFAULT_BACKEND_URL = 'https://chatgpt.com/backend-api';

export function backendUrl(env: NodeJS.ProcessEnv): string {
  return (env.AIGATE_CHATGPT_BACKEND_URL || DEFAULT_BACKEND_URL).replace(/\/+$/, '');
}

export interface UsageReport {
  quota: Quota;
  plan?: string;
  limitReached?: boolean;
  credits?: { hasCredits?: boolean; unlimited?: boolean; balance?: string };
}

export class UsageError extends Error {
  readonly expose = true;
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() && Number.isFinite(Number(v)) ? Number(v) : undefined);

function windowFrom(w: unknown, now: number): QuotaWindow | undefined {
  const o = obj(w);
  const used = num(o?.used_percent);
  if (!o || used === undefined) return undefined;
  const seconds = num(o.limit_window_seconds);
  const resetAt = num(o.reset_at);
  const resetAfter = num(o.reset_after_seconds);
  return {
    usedPercent: used,
    windowMinutes: seconds !== undefined ? Math.round(seconds / 60) : undefined,
    resetsAt: resetAt !== undefined ? resetAt * 1000 : resetAfter !== undefined ? now + resetAfter * 1000 : undefined,
  };
}

/** `{plan_type, rate_limit:{primary_window, secondary_window, limit_reached}, credits}` → a Quota. */
export function usageReport(body: unknown, now: number): UsageReport {
  const b = obj(body) ?? {};
  const rl = obj(b.rate_limit);
  const credits = obj(b.credits);
  return {
    quota: { primary: windowFrom(rl?.primary_window, now), secondary: windowFrom(rl?.secondary_window, now), updatedAt: now },
    plan: typeof b.plan_type === 'string' ? b.plan_type : undefined,
    limitReached: typeof rl?.limit_reached === 'boolean' ? rl.limit_reached : undefined,
    credits: credits && {
      hasCredits: credits.has_credits as boolean | undefined,
      unlimited: credits.unlimited as boolean | undefined,
      balance: credits.balance != null ? String(credits.balance) : undefined,
    },
  };
}

async function getUsage(backend: string, account: AccountRecord, token: string, via: GotVia): Promise<{ status: number; body: string }> {
  try {
    const res = await (await httpClient()).get(`${backend}/wham/usage`, {
      agent: via.agent,
      headers: { authorization: `Bearer ${token}`, 'chatgpt-account-id': account.chatgptAccountId ?? '', 'user-agent': 'aigate', accept: 'application/json' },
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: 20_000 },
    });
    return { status: res.statusCode, body: res.body };
  } catch (err) {
    throw new UsageError(`${account.name}: ${backend} did not answer${through(via)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * Fetches an official account's usage with a fresh token (refreshing once on
 * 401, like a request would) and records it as the account's quota.
 */
export async function fetchUsage(
  input: { store: Store; tokens: TokenSource; backend: string; net?: UpstreamNet; now?: () => number },
  account: AccountRecord,
): Promise<UsageReport> {
  if (account.kind !== 'official') throw new UsageError(`${account.name} is a third-party account; only ChatGPT accounts have a usage endpoint`, 400);
  const via = (await input.net?.via(`${input.backend}/wham/usage`, account)) ?? {};
  let token = await input.tokens.secretFor(account);
  let res = await getUsage(input.backend, account, token, via);
  if (res.status === 401) {
    const fresh = await input.tokens.afterUnauthorized(account, token);
    if (fresh) {
      token = fresh;
      res = await getUsage(input.backend, account, token, via);
    }
  }
  if (res.status !== 200) throw new UsageError(`${account.name}: the usage endpoint answered HTTP ${res.status}`, res.status);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new UsageError(`${account.name}: the usage endpoint answered something that is not JSON`);
  }
  const report = usageReport(body, (input.now ?? Date.now)());
  await input.store.update((data) => {
    const a = data.accounts.find((x) => x.id === account.id);
    if (a) applyQuota(a, report.quota);
  });
  return report;
}

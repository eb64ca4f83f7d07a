import type { IncomingHttpHeaders } from 'node:http';
import type { Quota, QuotaWindow } from '../state/schema.js';

/** The `x-codex-*` rate-limit headers Codex itself parses (codex-protocol.md); `undefined` when there are none. */
export function quotaFromHeaders(headers: IncomingHttpHeaders, now: number): Quota | undefined {
  const primary = windowFrom(headers, 'primary');
  const secondary = windowFrom(headers, 'secondary');
  if (!primary && !secondary) return undefined;
  return { primary, secondary, updatedAt: now };
}

function windowFrom(headers: IncomingHttpHeaders, which: 'primary' | 'secondary'): QuotaWindow | undefined {
  const used = num(headers[`x-codex-${which}-used-percent`]);
  if (used === undefined) return undefined;
  const minutes = num(headers[`x-codex-${which}-window-minutes`]);
  const resetAt = num(headers[`x-codex-${which}-reset-at`]);
  return { usedPercent: used, windowMinutes: minutes, resetsAt: resetAt !== undefined ? resetAt * 1000 : undefined };
}

function num(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export interface LimitVerdict {
  /** `usage-limit`: out of quota until the reset; `rate-limit`: slow down for a while. */
  kind: 'usage-limit' | 'rate-limit';
  /** ms since epoch, when the upstream said. */
  resetsAt?: number;
}

/**
 * Reads what a 429 (or a `response.failed` error object) says about when the
 * account is usable again: `resets_at` / `resets_in_seconds` in the body,
 * `Retry-After`, else the reset time of a rate-limit window that is full.
 */
export function limitVerdict(error: Record<string, unknown> | undefined, headers: IncomingHttpHeaders, now: number): LimitVerdict {
  const type = String(error?.type ?? error?.code ?? '');
  const kind = /usage_limit|insufficient_quota|quota/.test(type) ? 'usage-limit' : 'rate-limit';
  const resetsAt = num(String(error?.resets_at ?? ''));
  if (resetsAt !== undefined) return { kind, resetsAt: resetsAt * 1000 };
  const resetsIn = num(String(error?.resets_in_seconds ?? ''));
  if (resetsIn !== undefined) return { kind, resetsAt: now + resetsIn * 1000 };
  const retryAfter = retryAfterMs(headers['retry-after'], now);
  if (retryAfter !== undefined) return { kind, resetsAt: now + retryAfter };
  const quota = quotaFromHeaders(headers, now);
  const full = [quota?.primary, quota?.secondary].filter((w) => w && w.usedPercent >= 100 && w.resetsAt);
  const latest = Math.max(...full.map((w) => w!.resetsAt!));
  if (Number.isFinite(latest)) return { kind: 'usage-limit', resetsAt: latest };
  return { kind };
}

function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const seconds = num(value);
  if (seconds !== undefined) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The error object of an OpenAI-shaped body (`{"error":{…}}`), if it is one. */
export function errorObject(body: Buffer | string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(body.toString());
    const error = parsed?.error ?? parsed?.response?.error;
    return error && typeof error === 'object' ? error : undefined;
  } catch {
    return undefined;
  }
}

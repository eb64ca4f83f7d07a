/** What an upstream failure says about the account that answered, and how the account is marked for it. */
import type { IncomingHttpHeaders } from 'node:http';
import type { AccountRecord } from '../state/schema.js';
import type { Exchange } from './exchange.js';
import type { Failure } from './exhausted.js';
import { errorObject, limitVerdict } from './quota.js';

/** Codes in a `response.failed` that are the account's trouble, not the request's. */
const LIMIT_CODES = /usage_limit|rate_limit|insufficient_quota|quota/;
const SERVER_CODES = /server_error|overloaded|internal|slow_down|unavailable/;

/** An error object of a `response.failed` (or 429 body) that is the account's trouble: quota or the server. */
export const accountTrouble = (error: Record<string, unknown>) => {
  const code = String(error.code ?? error.type ?? '');
  return LIMIT_CODES.test(code) || SERVER_CODES.test(code);
};

/** Marks the account for a `response.failed` error the account is to blame for; the Failure it means. */
export function failedFailure(x: Exchange, account: AccountRecord, error: Record<string, unknown>, headers: IncomingHttpHeaders, status?: number): Failure {
  const { health, clock } = x.deps;
  if (LIMIT_CODES.test(String(error.code ?? error.type ?? ''))) {
    const verdict = limitVerdict(error, headers, clock.now());
    return { account, reason: 'response-failed', status, resetsAt: health.coolDown(account, verdict.kind, verdict.resetsAt) };
  }
  return { account, reason: 'response-failed', status, resetsAt: health.degrade(account, 'response-failed') };
}

/** 429, 401/403 after the refresh, 5xx: the account's trouble, kept to relay if no account takes the request. */
export function statusFailure(x: Exchange, account: AccountRecord, status: number, headers: IncomingHttpHeaders, body: Buffer): Failure {
  const { health, clock } = x.deps;
  const response = { status, headers, body };
  if (status === 429) {
    const verdict = limitVerdict(errorObject(body), headers, clock.now());
    return { account, reason: verdict.kind, status, response, resetsAt: health.coolDown(account, verdict.kind, verdict.resetsAt) };
  }
  const reason = status >= 500 ? 'server-error' : 'auth';
  return { account, reason, status, response, resetsAt: health.degrade(account, reason) };
}

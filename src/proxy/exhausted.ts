import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { formatResetTime } from '../state/account-status.js';
import type { AccountRecord } from '../state/schema.js';
import type { FailoverReason, RequestRecord } from '../state/events.js';
import { errorBody } from './errors.js';
import type { GatewayDeps } from './deps.js';
import { writeBuffered } from './relay.js';
import { candidates } from './routing.js';

/** What an account said when it did not take a request. */
export interface Failure {
  account: AccountRecord;
  reason: FailoverReason;
  status?: number;
  resetsAt?: number;
  /** A small upstream answer (error JSON) that can still be relayed if no account succeeds. */
  response?: { status: number; headers: IncomingHttpHeaders; body: Buffer };
}

/** When everything is only briefly rate limited, tell Codex to retry rather than stop. */
const SHORT_WAIT_MS = 60_000;

/**
 * No account took the request. Everything out of quota: 429 `usage_limit_reached`
 * with the earliest reset, so Codex tells the user when to come back. Only
 * briefly rate limited: 429 with Retry-After, which Codex waits out. Transient
 * trouble: the last upstream error (or a 502), which Codex retries with backoff.
 */
export function answerExhausted(res: ServerResponse, deps: GatewayDeps, failures: Failure[], pinned: AccountRecord | undefined, record: RequestRecord): void {
  const now = deps.clock.now();
  const { earliestReset } = candidates(deps.store.data, deps.health, { pinned, failover: true });
  const transient = failures.filter((f) => f.reason !== 'usage-limit' && f.reason !== 'rate-limit' && !(f.reason === 'response-failed' && f.resetsAt && deps.health.current(f.account).state === 'cooling'));
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
    res.end(text);
    record.status = status;
  };
  if (transient.length) {
    const last = [...transient].reverse().find((f) => f.response);
    if (last?.response) {
      writeBuffered(res, last.response);
      record.status = last.response.status;
      return;
    }
    const what = transient.map((f) => `${f.account.name}: ${f.reason}`).join('; ');
    json(502, errorBody(`every account failed (${what}); Codex will retry`, 'server_error', 'upstream_unavailable'));
    return;
  }
  const resetsAt = earliestReset ?? Math.min(...failures.map((f) => f.resetsAt ?? Infinity));
  if (!Number.isFinite(resetsAt)) {
    const why = deps.store.data.accounts.map((a) => `${a.name}: ${a.enabled ? deps.health.current(a).state : 'disabled'}`).join(', ');
    json(503, errorBody(`no usable account (${why}); sign in again with \`aigate accounts login\` or enable one with \`aigate accounts enable NAME\``, 'server_error', 'no_usable_account'));
    return;
  }
  deps.bus.emit('exhausted', { at: now, resetsAt });
  if (resetsAt - now <= SHORT_WAIT_MS) {
    const seconds = Math.max(1, Math.ceil((resetsAt - now) / 1000));
    json(429, errorBody(`every account is rate limited; retry in ${seconds}s`, 'rate_limit_exceeded', 'rate_limit_exceeded'), { 'retry-after': String(seconds) });
    return;
  }
  const resets = accountResets(pinned ? [pinned] : deps.store.data.accounts, deps, now);
  json(
    429,
    errorBody(`every AI Gate account has hit its usage limit${resets ? ` (${resets})` : ''}; the first resets at ${new Date(resetsAt).toISOString()}`, 'usage_limit_reached', 'usage_limit_reached', {
      resets_at: Math.ceil(resetsAt / 1000),
      resets_in_seconds: Math.ceil((resetsAt - now) / 1000),
    }),
    // Codex prints this header's text in its usage-limit message (codex-protocol.md), so the user sees every account's reset.
    resets ? { 'x-codex-promo-message': `AI Gate: ${resets}` } : {},
  );
}

/** Past this, the list is cut ("and 3 more"): a header is no place for an essay. */
const MAX_RESETS_TEXT = 300;

/**
 * "work resets 21:40, home resets Tue 09:00, old needs sign-in" (local time, soonest first), in
 * printable ASCII only: an HTTP header carries no more, and Codex drops a header it cannot read.
 */
export function accountResets(accounts: readonly AccountRecord[], deps: Pick<GatewayDeps, 'health'>, now: number): string {
  const cooling: { name: string; until: number }[] = [];
  const signIn: string[] = [];
  for (const a of accounts) {
    if (!a.enabled) continue;
    const h = deps.health.current(a);
    if (h.state === 'cooling' && h.until) cooling.push({ name: a.name, until: h.until });
    else if (h.state === 'needs-login') signIn.push(a.name);
  }
  const parts = [
    ...cooling.sort((x, y) => x.until - y.until).map((c) => `${ascii(c.name)} resets ${formatResetTime(c.until, now)}`),
    ...signIn.map((name) => `${ascii(name)} needs sign-in`),
  ];
  let text = '';
  for (let i = 0; i < parts.length; i++) {
    const next = text ? `${text}, ${parts[i]}` : parts[i]!;
    if (next.length > MAX_RESETS_TEXT) return `${text} and ${parts.length - i} more`;
    text = next;
  }
  return ascii(text);
}

/** Accents dropped (é → e), anything else outside printable ASCII as "?". */
const ascii = (s: string) => s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]/g, '?');

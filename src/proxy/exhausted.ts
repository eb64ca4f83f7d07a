import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
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
  json(
    429,
    errorBody(`every AI Gate account has hit its usage limit; the first resets at ${new Date(resetsAt).toISOString()}`, 'usage_limit_reached', 'usage_limit_reached', {
      resets_at: Math.ceil(resetsAt / 1000),
      resets_in_seconds: Math.ceil((resetsAt - now) / 1000),
    }),
  );
}

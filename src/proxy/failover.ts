import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { debuglog } from 'node:util';
import { NeedsLoginError } from '../state/auth/tokens.js';
import type { RequestRecord } from '../state/events.js';
import type { AccountRecord } from '../state/schema.js';
import type { GatewayDeps } from './deps.js';
import { GatewayError } from './errors.js';
import { answerExhausted, type Failure } from './exhausted.js';
import { targetFor, type Route } from './providers.js';
import { errorObject, limitVerdict, quotaFromHeaders } from './quota.js';
import { isEventStream, peekFirstEvent, relay, writeBuffered } from './relay.js';
import { stripAccountState, type RequestBody } from './request-body.js';
import { candidates } from './routing.js';
import { readSmall, UpstreamError } from './upstream.js';

const log = debuglog('aigate:proxy');

export interface ForwardRequest {
  route: Route;
  method: 'GET' | 'POST';
  /** `?client_version=…` and the like, kept as Codex sent it. */
  query: string;
  body?: RequestBody;
  /** `/ai-router/api/accounts/<name>/…`: this account only, no failover. */
  pinned?: AccountRecord;
}

/** Codes in a `response.failed` that are the account's trouble, not the request's. */
const LIMIT_CODES = /usage_limit|rate_limit|insufficient_quota|quota/;
const SERVER_CODES = /server_error|overloaded|internal|slow_down|unavailable/;

export const conversationKey = (headers: IncomingHttpHeaders, body?: RequestBody) =>
  (headers['session-id'] as string | undefined) ?? (headers['thread-id'] as string | undefined) ?? body?.facts.promptCacheKey;

/**
 * Sends one Codex request to the first account that takes it. Before any byte
 * reaches Codex, quota, auth, server and connection failures move the same
 * buffered body to the next account; after that, a broken stream is ended so
 * Codex re-sends the turn, and the account is marked so the re-send goes
 * elsewhere.
 */
export async function forward(req: IncomingMessage, res: ServerResponse, deps: GatewayDeps, request: ForwardRequest): Promise<void> {
  const started = performance.now();
  const data = deps.store.data;
  if (!data.accounts.length) {
    throw new GatewayError(503, 'AI Gate has no account yet: run `aigate accounts import` (your Codex login) or `aigate accounts add NAME --base-url URL`', 'server_error', 'no_accounts');
  }
  const key = conversationKey(req.headers, request.body);
  const conversation = deps.conversations.get(key);
  const failover = data.settings.failover && !request.pinned;
  const { accounts } = candidates(data, deps.health, { conversation, pinned: request.pinned, failover });

  const abort = new AbortController();
  const onClose = () => res.writableFinished || abort.abort();
  res.once('close', onClose);

  const record: RequestRecord = {
    at: deps.clock.now(),
    route: request.route,
    model: request.body?.facts.model,
    client: req.headers.originator as string | undefined,
    status: 0,
    totalMs: 0,
    hops: [],
  };
  const failures: Failure[] = [];
  let stripped: Buffer | undefined;

  const attempt = async (account: AccountRecord, first: boolean): Promise<Failure | 'done'> => {
    let secret: string;
    try {
      secret = await deps.tokens.secretFor(account);
    } catch (err) {
      return authFailure(account, err);
    }
    // State only another account can read goes when the conversation has moved (codex-protocol.md: every
    // HTTP request carries the whole history, encrypted reasoning included).
    const foreign =
      !!request.body?.facts.carriesAccountState &&
      (conversation ? conversation.servedBy.some((id) => id !== account.id) : !first);
    let retriedAuth = false;
    let retriedStrip = false;
    for (;;) {
      const target = targetFor(account, secret, request.route, request.query, req.headers, deps.urls);
      let payload = request.body?.raw;
      if (request.body && (foreign || retriedStrip)) {
        payload = stripped ??= stripAccountState(request.body);
        delete target.headers['content-encoding'];
      }
      let up: IncomingMessage;
      try {
        up = await deps.upstream.send(account, target, { method: request.method, body: payload, signal: abort.signal, headersTimeoutMs: deps.headersTimeoutMs });
      } catch (err) {
        if (abort.signal.aborted) return 'done';
        const reason = err instanceof UpstreamError && err.kind === 'timeout' ? 'timeout' : 'connection';
        log('%s: %s', account.name, (err as Error).message);
        return { account, reason, resetsAt: deps.health.degrade(account, reason) };
      }
      const quota = quotaFromHeaders(up.headers, deps.clock.now());
      if (quota) deps.health.recordQuota(account, quota);
      const status = up.statusCode ?? 502;

      if ((status === 401 || status === 403) && !retriedAuth && account.kind === 'official') {
        const body = await readSmall(up);
        retriedAuth = true;
        try {
          const fresh = await deps.tokens.afterUnauthorized(account, secret);
          if (fresh) {
            secret = fresh;
            continue;
          }
        } catch (err) {
          return authFailure(account, err);
        }
        // No fresh token to retry with: if no account takes the request, Codex gets this 401 (and does its
        // own auth recovery: reload auth.json, refresh) rather than a 502.
        return { account, reason: 'auth', status, response: { status, headers: up.headers, body }, resetsAt: deps.health.degrade(account, 'auth') };
      }
      if (status === 429 || status === 401 || status === 403 || status >= 500) {
        const body = await readSmall(up);
        const response = { status, headers: up.headers, body };
        if (status === 429) {
          const verdict = limitVerdict(errorObject(body), up.headers, deps.clock.now());
          return { account, reason: verdict.kind, status, response, resetsAt: deps.health.coolDown(account, verdict.kind, verdict.resetsAt) };
        }
        const reason = status >= 500 ? 'server-error' : 'auth';
        return { account, reason, status, response, resetsAt: deps.health.degrade(account, reason) };
      }
      if (status === 400 && request.body?.facts.carriesAccountState && !foreign && !retriedStrip) {
        // An account that cannot read the conversation's encrypted reasoning says so with a 400: the
        // gateway did not know who produced it (history from before AI Gate), so send it without.
        const body = await readSmall(up);
        if (/encrypted|previous_response/i.test(body.toString())) {
          retriedStrip = true;
          continue;
        }
        return commitBuffered(account, { status, headers: up.headers, body });
      }

      let held: Buffer[] = [];
      if (status >= 200 && status < 300 && isEventStream(up) && request.route !== 'models') {
        const peek = await peekFirstEvent(up, deps.headersTimeoutMs);
        if (abort.signal.aborted) return 'done';
        const failed = failedEvent(peek.event);
        if (peek.ended && !peek.chunks.length) {
          up.destroy();
          return { account, reason: 'stream-cut', status, resetsAt: deps.health.degrade(account, 'stream-cut') };
        }
        if (failed) {
          const code = String(failed.code ?? failed.type ?? '');
          if (LIMIT_CODES.test(code) || SERVER_CODES.test(code)) {
            up.destroy();
            if (LIMIT_CODES.test(code)) {
              const verdict = limitVerdict(failed, up.headers, deps.clock.now());
              return { account, reason: 'response-failed', status, resetsAt: deps.health.coolDown(account, verdict.kind, verdict.resetsAt) };
            }
            return { account, reason: 'response-failed', status, resetsAt: deps.health.degrade(account, 'response-failed') };
          }
        }
        held = peek.chunks;
      }
      return commit(account, up, held);
    }
  };

  const authFailure = (account: AccountRecord, err: unknown): Failure => {
    if (err instanceof NeedsLoginError) {
      deps.health.needsLogin(account, err.message);
      return { account, reason: 'auth' };
    }
    log('%s: credentials: %s', account.name, (err as Error).message);
    return { account, reason: 'auth', resetsAt: deps.health.degrade(account, 'auth') };
  };

  const commit = async (account: AccountRecord, up: IncomingMessage, held: Buffer[]): Promise<'done'> => {
    const outcome = await relay(up, res, held, started);
    const status = up.statusCode ?? 502;
    const tail = outcome.tap.result();
    Object.assign(record, { account: account.name, status, ttfbMs: outcome.ttfb, usage: tail.usage, bytes: outcome.tap.bytes });
    if (outcome.clientGone) {
      record.status = 499;
      return 'done';
    }
    if (status < 200 || status >= 300) return 'done';
    const stream = isEventStream(up);
    const terminal = tail.lastType === 'response.completed' || tail.lastType === 'response.incomplete' || tail.lastType === 'response.failed';
    if (!outcome.complete || (stream && request.route === 'responses' && !terminal)) {
      // Codex re-sends a turn whose stream ended before `response.completed`; make that go elsewhere.
      const until = deps.health.degrade(account, 'stream-cut');
      deps.bus.emit('failover', { at: deps.clock.now(), from: account.name, reason: 'stream-cut', resetsAt: until });
      record.hops.push({ account: account.name, reason: 'stream-cut', status });
      return 'done';
    }
    if (tail.lastType === 'response.failed') {
      const error = ((tail.lastEvent?.response as Record<string, unknown> | undefined)?.error ?? {}) as Record<string, unknown>;
      const code = String(error.code ?? error.type ?? '');
      if (LIMIT_CODES.test(code)) {
        const verdict = limitVerdict(error, up.headers, deps.clock.now());
        deps.health.coolDown(account, verdict.kind, verdict.resetsAt);
        return 'done';
      }
      if (SERVER_CODES.test(code)) {
        deps.health.degrade(account, 'response-failed');
        return 'done';
      }
    }
    deps.health.succeeded(account);
    deps.conversations.served(key, account.id, deps.clock.now());
    return 'done';
  };

  const commitBuffered = (account: AccountRecord, response: NonNullable<Failure['response']>): 'done' => {
    writeBuffered(res, response);
    Object.assign(record, { account: account.name, status: response.status, ttfbMs: performance.now() - started, bytes: response.body.length });
    return 'done';
  };

  try {
    for (let i = 0; i < accounts.length && !abort.signal.aborted; i++) {
      const account = accounts[i]!;
      const outcome = await attempt(account, i === 0);
      if (outcome === 'done') return;
      failures.push(outcome);
      record.hops.push({ account: account.name, reason: outcome.reason, status: outcome.status });
      const next = accounts[i + 1];
      deps.bus.emit('failover', { at: deps.clock.now(), from: account.name, to: next?.name, reason: outcome.reason, status: outcome.status, resetsAt: outcome.resetsAt });
    }
    if (!abort.signal.aborted) answerExhausted(res, deps, failures, request.pinned, record);
  } finally {
    res.off('close', onClose);
    record.totalMs = performance.now() - started;
    if (abort.signal.aborted && !record.status) record.status = 499;
    deps.bus.emit('request', record);
  }
}

function failedEvent(event: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (event?.type !== 'response.failed') return undefined;
  const error = (event.response as Record<string, unknown> | undefined)?.error ?? event.error;
  return error && typeof error === 'object' ? (error as Record<string, unknown>) : {};
}

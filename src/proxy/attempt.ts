import type { IncomingMessage } from 'node:http';
import { debuglog } from 'node:util';
import { NeedsLoginError } from '../state/auth/tokens.js';
import type { AccountRecord } from '../state/schema.js';
import { commit, commitBuffered, compactionAnswer, localCompaction } from './commit.js';
import { OwnRequestError, refusesCompaction } from './compaction.js';
import { accountTrouble, failedFailure, statusFailure } from './account-trouble.js';
import type { Exchange } from './exchange.js';
import type { Failure } from './exhausted.js';
import { compactsLocally, handOver, needsHandover, type Handover } from './handover.js';
import { targetFor } from './providers.js';
import { quotaFromHeaders } from './quota.js';
import { isEventStream, peekFirstEvent } from './relay.js';
import { failedError } from './sse-tap.js';
import { readSmall, UpstreamError } from './upstream.js';

const log = debuglog('aigate:proxy');

/**
 * One account's go at a request: its credentials, the body as this account
 * can read it, the send, one refresh-and-retry on 401, one retry without
 * account-bound state when the account says it cannot read it. Resolves
 * `done` once the client has its answer, or the Failure that moves the request
 * on to the next account.
 */
export async function attempt(x: Exchange, account: AccountRecord, first: boolean, failover: boolean): Promise<Failure | 'done'> {
  const { deps, request } = x;
  let secret: string;
  try {
    secret = await deps.tokens.secretFor(account);
  } catch (err) {
    return authFailure(x, account, err);
  }
  // State only another account can read goes when the conversation has moved (codex-protocol.md: every HTTP
  // request carries the whole history, encrypted reasoning and compactions included).
  const moved = x.conversation ? x.conversation.servedBy.some((id) => id !== account.id) : !first;
  const facts = request.body?.facts;
  let retriedAuth = false;
  let retriedStrip = false;
  try {
    if (facts?.compacting && account.compaction === 'local') return await localCompaction(x, account, { strip: moved });
    for (;;) {
      const h: Handover = { strip: moved || retriedStrip };
      const target = targetFor(account, secret, request.route, request.query, x.req.headers, deps.urls);
      let payload = request.body?.raw;
      if (request.body && needsHandover(x, account, h)) {
        payload = await handOver(x, account, h);
        delete target.headers['content-encoding'];
      }
      const turnState = x.meta.turnState;
      if (turnState && !deps.affinity.mayCarry(turnState, account.id, x.conversation)) delete target.headers['x-codex-turn-state'];
      let up: IncomingMessage;
      try {
        up = await deps.upstream.send(account, target, { method: request.method, body: payload, signal: x.abort.signal, headersTimeoutMs: deps.headersTimeoutMs });
      } catch (err) {
        if (x.abort.signal.aborted) return 'done';
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
        let fresh: string | undefined;
        try {
          fresh = await deps.tokens.afterUnauthorized(account, secret);
        } catch (err) {
          // A refresh that failed (the token endpoint down, Codex holding its lock) moves the request on.
          return authFailure(x, account, err);
        }
        if (fresh) {
          secret = fresh;
          continue;
        }
        // No fresh token to retry with: if no account takes the request, Codex gets this 401 (and does its
        // own auth recovery: reload auth.json, refresh) rather than a 502.
        return statusFailure(x, account, status, up.headers, body);
      }
      if (status === 429 || status === 401 || status === 403 || status >= 500) return statusFailure(x, account, status, up.headers, await readSmall(up));
      if (status >= 400 && facts && ((facts.compacting && account.kind === 'third-party') || (status === 400 && !h.strip && (facts.carriesAccountState || facts.compactions.length > 0)))) {
        const body = await readSmall(up);
        if (facts.compacting && account.kind === 'third-party' && refusesCompaction(status, body)) {
          // Most providers that speak the Responses API do not compact remotely: AI Gate does it for them.
          await compactsLocally(x, account);
          return await localCompaction(x, account, h);
        }
        if (status === 400 && !h.strip && /encrypted|previous_response/i.test(body.toString())) {
          // The account cannot read something the gateway did not know the origin of (history from before AI
          // Gate): send it without, and never send those blobs to this account again.
          deps.compactions.refused(facts.compactions, account.id);
          retriedStrip = true;
          continue;
        }
        return commitBuffered(x, account, { status, headers: up.headers, body });
      }

      if (status >= 200 && status < 300 && facts?.compacting) return await compactionAnswer(x, account, up, h);
      let held: Buffer[] = [];
      if (status >= 200 && status < 300 && isEventStream(up) && request.route !== 'models') {
        const peek = await peekFirstEvent(up, deps.headersTimeoutMs);
        if (x.abort.signal.aborted) return 'done';
        if (peek.ended && !peek.chunks.length) {
          up.destroy();
          return { account, reason: 'stream-cut', status, resetsAt: deps.health.degrade(account, 'stream-cut') };
        }
        const failed = peek.event?.type === 'response.failed' ? failedError(peek.event) : undefined;
        if (failed && accountTrouble(failed)) {
          up.destroy();
          return failedFailure(x, account, failed, up.headers, status);
        }
        held = peek.chunks;
      }
      return await commit(x, account, up, held, failover);
    }
  } catch (err) {
    if (err instanceof OwnRequestError) return ownFailure(x, account, err);
    if (err instanceof NeedsLoginError) return authFailure(x, account, err);
    throw err;
  }
}

/** A request AI Gate made on its own for this account (a compaction, a summary) failed. */
function ownFailure(x: Exchange, account: AccountRecord, err: OwnRequestError): Failure {
  log('%s: %s', account.name, err.message);
  const { health } = x.deps;
  if (err.kind === 'connection' || err.kind === 'timeout') return { account, reason: err.kind, resetsAt: health.degrade(account, err.kind) };
  if (err.kind === 'incomplete' || !err.answer) return { account, reason: 'stream-cut', resetsAt: health.degrade(account, 'stream-cut') };
  const { status, headers, body } = err.answer;
  if (status === 429 || status === 401 || status === 403 || status >= 500) return statusFailure(x, account, status, headers, body);
  // A refusal of what the gateway sent on its own: not the account's trouble, but it cannot take this request.
  return { account, reason: 'response-failed', status, response: err.answer };
}

function authFailure(x: Exchange, account: AccountRecord, err: unknown): Failure {
  if (err instanceof NeedsLoginError) {
    x.deps.health.needsLogin(account, err.message);
    return { account, reason: 'auth' };
  }
  log('%s: credentials: %s', account.name, (err as Error).message);
  return { account, reason: 'auth', resetsAt: x.deps.health.degrade(account, 'auth') };
}

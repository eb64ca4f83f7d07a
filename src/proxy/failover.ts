import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { RequestRecord } from '../state/events.js';
import { turnMeta } from './affinity.js';
import { attempt } from './attempt.js';
import type { GatewayDeps } from './deps.js';
import { GatewayError } from './errors.js';
import type { Exchange, ForwardRequest } from './exchange.js';
import { answerExhausted, type Failure } from './exhausted.js';
import type { RequestBody } from './request-body.js';
import { candidates } from './routing.js';

export const conversationKey = (headers: IncomingHttpHeaders, body?: RequestBody) =>
  (headers['session-id'] as string | undefined) ?? (headers['thread-id'] as string | undefined) ?? body?.facts.promptCacheKey;

/**
 * Sends one Codex request to the first account that takes it. Before any byte
 * reaches Codex, quota, auth, server and connection failures move the same
 * buffered body to the next account; after that, a broken stream is ended so
 * Codex re-sends the turn, and the account is marked so the re-send goes
 * elsewhere. The accounts the request is bound to (its turn's, its parent
 * thread's, its conversation's) are tried first while they are healthy.
 */
export async function forward(req: IncomingMessage, res: ServerResponse, deps: GatewayDeps, request: ForwardRequest): Promise<void> {
  const started = performance.now();
  const data = deps.store.data;
  if (!data.accounts.length) {
    throw new GatewayError(503, 'AI Gate has no account yet: run `aigate accounts import` (your Codex login) or `aigate accounts add NAME --base-url URL`', 'server_error', 'no_accounts');
  }
  const key = conversationKey(req.headers, request.body);
  const conversation = deps.conversations.get(key);
  const meta = turnMeta(req.headers);
  const failover = data.settings.failover && !request.pinned;
  const sticky = deps.affinity.preferred(meta, conversation);
  const { accounts } = candidates(data, deps.health, { sticky, pinned: request.pinned, failover });

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
  const x: Exchange = { req, res, deps, request, key, conversation, meta, abort, record, started };
  const failures: Failure[] = [];
  try {
    for (let i = 0; i < accounts.length && !abort.signal.aborted; i++) {
      const account = accounts[i]!;
      const outcome = await attempt(x, account, i === 0, failover);
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

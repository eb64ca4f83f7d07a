/**
 * The account that takes a request answers the client: a stream relayed as it
 * arrives, a small answer read in full, or — for Codex's compaction requests —
 * an answer read whole before anything is relayed, so the compaction item can
 * be kept with the history it stands for (and a broken one can still move on).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AccountRecord } from '../state/schema.js';
import { accountTrouble, failedFailure } from './account-trouble.js';
import { answerWithOwnCompaction, compactionItemOf, MAX_ANSWER, summarizeOn } from './compaction.js';
import { parsedOnce, type Exchange } from './exchange.js';
import type { Failure } from './exhausted.js';
import { compactsLocally, readableInput, type Handover } from './handover.js';
import { isEventStream, relay, writeBuffered } from './relay.js';
import type { Item } from './request-body.js';
import { failedError, sseEvents, usageFrom } from './sse-tap.js';
import { readSmall } from './upstream.js';

/** This account's answer is reaching the client: the conversation and turn now hold its state. */
function reached(x: Exchange, account: AccountRecord, headers: IncomingHttpHeaders): void {
  const { deps } = x;
  deps.conversations.served(x.key, account.id, deps.clock.now());
  const turnState = headers['x-codex-turn-state'];
  deps.affinity.served(x.meta, account.id, typeof turnState === 'string' ? turnState : undefined);
}

/** Relays the stream; afterwards, marks the account by how it ended (see relay's `withhold`). */
export async function commit(x: Exchange, account: AccountRecord, up: IncomingMessage, held: Buffer[], failover: boolean): Promise<'done'> {
  const { deps, record, request } = x;
  const ok = (up.statusCode ?? 502) >= 200 && (up.statusCode ?? 502) < 300;
  if (ok) reached(x, account, up.headers);
  const outcome = await relay(up, x.res, held, x.started, failover && request.route === 'responses' ? accountTrouble : undefined);
  const status = up.statusCode ?? 502;
  const tail = outcome.tap.result();
  Object.assign(record, { account: account.name, status, ttfbMs: outcome.ttfb, usage: tail.usage, bytes: outcome.tap.bytes });
  if (outcome.clientGone) {
    record.status = 499;
    return 'done';
  }
  if (!ok) return 'done';
  const markCut = (failure: Pick<Failure, 'reason' | 'resetsAt'>) => {
    deps.bus.emit('failover', { at: deps.clock.now(), from: account.name, reason: failure.reason, resetsAt: failure.resetsAt });
    record.hops.push({ account: account.name, reason: failure.reason, status });
  };
  if (outcome.withheld) {
    // A late overload or quota failure, not relayed: Codex re-sends the turn, and this account is marked.
    markCut(failedFailure(x, account, outcome.withheld, up.headers, status));
    return 'done';
  }
  const terminal = tail.lastType === 'response.completed' || tail.lastType === 'response.incomplete' || tail.lastType === 'response.failed';
  if (!outcome.complete || (isEventStream(up) && request.route === 'responses' && !terminal)) {
    // Codex re-sends a turn whose stream ended before `response.completed`; make that go elsewhere.
    markCut({ reason: 'stream-cut', resetsAt: deps.health.degrade(account, 'stream-cut') });
    return 'done';
  }
  if (tail.lastType === 'response.failed') {
    const error = failedError(tail.lastEvent);
    if (accountTrouble(error)) {
      failedFailure(x, account, error, up.headers, status);
      return 'done';
    }
  }
  deps.health.succeeded(account);
  return 'done';
}

export function commitBuffered(x: Exchange, account: AccountRecord, response: NonNullable<Failure['response']>): 'done' {
  writeBuffered(x.res, response);
  Object.assign(x.record, { account: account.name, status: response.status, ttfbMs: performance.now() - x.started, bytes: response.body.length });
  return 'done';
}

/**
 * Codex asked `account` to compact. The answer is read whole: its one
 * compaction item is kept with the history it stands for (as Codex sent it),
 * then relayed as it came. A broken answer moves the request on unseen.
 */
export async function compactionAnswer(x: Exchange, account: AccountRecord, up: IncomingMessage, h: Handover): Promise<Failure | 'done'> {
  const { deps } = x;
  const body = await readSmall(up, MAX_ANSWER, deps.headersTimeoutMs);
  const events = sseEvents(body);
  const last = events.at(-1);
  if (last?.type === 'response.failed') {
    const error = failedError(last);
    if (accountTrouble(error)) return failedFailure(x, account, error, up.headers, up.statusCode);
  }
  if (!up.complete || !events.some((e) => e.type === 'response.completed' || e.type === 'response.failed')) {
    return { account, reason: 'stream-cut', status: up.statusCode, resetsAt: deps.health.degrade(account, 'stream-cut') };
  }
  const item = compactionItemOf(events);
  if (typeof item?.encrypted_content !== 'string' && account.kind === 'third-party' && last?.type === 'response.completed') {
    // The provider answered the trigger like an ordinary turn: it does not compact remotely.
    await compactsLocally(x, account);
    return localCompaction(x, account, h);
  }
  if (typeof item?.encrypted_content === 'string') {
    const input = parsedOnce(x).input as Item[];
    await deps.compactions.remember(item.encrypted_content, account.id, input.slice(0, -1));
  }
  reached(x, account, up.headers);
  x.record.usage = usageFrom((events.find((e) => e.type === 'response.completed')?.response as Record<string, unknown> | undefined)?.usage);
  deps.health.succeeded(account);
  return commitBuffered(x, account, { status: up.statusCode ?? 200, headers: up.headers, body });
}

/** Compacts for an account that cannot: it summarizes the history, Codex gets AI Gate's own compaction item. */
export async function localCompaction(x: Exchange, account: AccountRecord, h: Handover): Promise<'done'> {
  const input = (parsedOnce(x).input as Item[]).slice(0, -1);
  const summary = await summarizeOn(x, account, await readableInput(x, account, input, h, 0));
  reached(x, account, summary.headers);
  answerWithOwnCompaction(x.res, summary);
  Object.assign(x.record, { account: account.name, status: 200, ttfbMs: performance.now() - x.started, usage: summary.usage });
  x.deps.health.succeeded(account);
  return 'done';
}

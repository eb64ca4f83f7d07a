/**
 * The requests AI Gate makes on its own when a conversation holds history an
 * account cannot read: a remote compaction (`compaction_trigger`) of that
 * history on the account, or, for an account that cannot compact remotely, an
 * ordinary request for a summary of it. Each is one upstream request, read in
 * full, recorded in the statistics like any other.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { NeedsLoginError } from '../state/auth/tokens.js';
import type { TokenUsage } from '../state/events.js';
import type { AccountRecord } from '../state/schema.js';
import { ownHeaders, parsedOnce, type Exchange } from './exchange.js';
import { ownCompactionItem, summaryRequestMessage } from './own-compaction.js';
import { relayedHeaders, targetFor } from './providers.js';
import { isEventStream } from './relay.js';
import type { Item } from './request-body.js';
import { sseEvents, usageFrom } from './sse-tap.js';
import { readSmall, UpstreamError } from './upstream.js';

/** The largest compaction or summary answer AI Gate reads whole (one compaction item can be large). */
export const MAX_ANSWER = 32 * 1024 * 1024;

/** An upstream answer that did not give what was asked, with what the failover needs to judge it. */
export class OwnRequestError extends Error {
  constructor(
    message: string,
    readonly kind: 'connection' | 'timeout' | 'status' | 'incomplete' | 'unsupported',
    readonly answer?: { status: number; headers: IncomingHttpHeaders; body: Buffer },
  ) {
    super(message);
  }
}

export interface OwnAnswer {
  events: Record<string, unknown>[];
  headers: IncomingHttpHeaders;
  status: number;
  id?: string;
  usage?: TokenUsage;
}

/** A 4xx that says the provider does not know `compaction_trigger` (or remote compaction at all). */
export const refusesCompaction = (status: number, body: Buffer | string) =>
  status >= 400 && status < 500 && status !== 401 && status !== 403 && status !== 429 && /compaction/i.test(body.toString());

/** `account` compacts `input` remotely; the blob of its one compaction item. */
export async function compactOn(x: Exchange, account: AccountRecord, input: Item[]): Promise<string> {
  const template = parsedOnce(x);
  const { previous_response_id: _p, ...rest } = template;
  const answer = await ownRequest(x, account, { ...rest, stream: true, input: [...input, { type: 'compaction_trigger' }] }, 'compaction');
  const blob = compactionItemOf(answer.events)?.encrypted_content;
  if (typeof blob !== 'string') {
    throw new OwnRequestError(`${account.name} answered a compaction request without a compaction item`, account.kind === 'third-party' ? 'unsupported' : 'incomplete');
  }
  return blob;
}

/** `account` summarizes `input` with an ordinary request (no tools, nothing stored). */
export async function summarizeOn(x: Exchange, account: AccountRecord, input: Item[]): Promise<OwnAnswer & { text: string }> {
  const t = parsedOnce(x);
  const body = { model: t.model, stream: true, store: false, input: [...input, summaryRequestMessage()], ...(t.reasoning ? { reasoning: t.reasoning } : {}), ...(t.prompt_cache_key ? { prompt_cache_key: t.prompt_cache_key } : {}) };
  const answer = await ownRequest(x, account, body, 'summary');
  const text = summaryTextOf(answer.events);
  if (!text) throw new OwnRequestError(`${account.name} answered the summary request without any text`, 'incomplete');
  return { ...answer, text };
}

/** Answers Codex's compaction request with AI Gate's own compaction item, made from `summary`. */
export function answerWithOwnCompaction(res: ServerResponse, summary: OwnAnswer & { text: string }): void {
  const item = ownCompactionItem(summary.text);
  const id = summary.id ?? 'resp_aigate_compaction';
  const event = (type: string, payload: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
  const body =
    event('response.created', { response: { id, status: 'in_progress', output: [] } }) +
    event('response.output_item.added', { output_index: 0, item }) +
    event('response.output_item.done', { output_index: 0, item }) +
    event('response.completed', { response: { id, status: 'completed', output: [item], ...(summary.usage ? { usage: wireUsage(summary.usage) } : {}) } });
  const headers = relayedHeaders(summary.headers);
  delete headers['content-length'];
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function compactionItemOf(events: Record<string, unknown>[]): Item | undefined {
  for (const e of events) {
    const item = e.item as Item | undefined;
    if (e.type === 'response.output_item.done' && item?.type === 'compaction') return item;
  }
  const completed = events.find((e) => e.type === 'response.completed')?.response as { output?: Item[] } | undefined;
  return completed?.output?.find((i) => i.type === 'compaction');
}

function summaryTextOf(events: Record<string, unknown>[]): string {
  const completed = events.find((e) => e.type === 'response.completed')?.response as { output?: Item[] } | undefined;
  const messages = (completed?.output ?? []).filter((i) => i.type === 'message');
  const fromOutput = messages.flatMap((m) => (m.content as Item[] | undefined) ?? []).map((c) => String(c.text ?? '')).join('');
  if (fromOutput.trim()) return fromOutput.trim();
  return events.filter((e) => e.type === 'response.output_text.delta').map((e) => String(e.delta ?? '')).join('').trim();
}

async function ownRequest(x: Exchange, account: AccountRecord, body: Record<string, unknown>, purpose: 'compaction' | 'summary'): Promise<OwnAnswer> {
  const { deps } = x;
  const started = performance.now();
  const payload = Buffer.from(JSON.stringify(body));
  let secret = await deps.tokens.secretFor(account);
  // What the statistics record of this request says, filled in as the answer arrives.
  const seen: { status: number; usage?: TokenUsage } = { status: 0 };
  try {
    for (let retried = false; ; retried = true) {
      const target = targetFor(account, secret, 'responses', '', ownHeaders(x), deps.urls);
      const up = await deps.upstream.send(account, target, { method: 'POST', body: payload, signal: x.abort.signal, headersTimeoutMs: deps.headersTimeoutMs }).catch((err) => {
        throw new OwnRequestError(`${account.name}: ${(err as Error).message}`, err instanceof UpstreamError && err.kind === 'timeout' ? 'timeout' : 'connection');
      });
      const status = (seen.status = up.statusCode ?? 502);
      const answer = await readSmall(up, MAX_ANSWER, deps.headersTimeoutMs);
      if (status === 401 && !retried && account.kind === 'official') {
        const fresh = await deps.tokens.afterUnauthorized(account, secret).catch((err: Error) => {
          if (err instanceof NeedsLoginError) throw err;
          throw new OwnRequestError(`${account.name}: ${err.message}`, 'connection');
        });
        if (fresh) {
          secret = fresh;
          continue;
        }
      }
      if (status < 200 || status >= 300) {
        const kind = purpose === 'compaction' && account.kind === 'third-party' && refusesCompaction(status, answer) ? 'unsupported' : 'status';
        throw new OwnRequestError(`${account.name} answered the ${purpose} request with HTTP ${status}`, kind, { status, headers: up.headers, body: answer });
      }
      const events = isEventStream(up) ? sseEvents(answer) : [jsonAnswer(answer)];
      const completed = events.find((e) => e.type === 'response.completed')?.response as Record<string, unknown> | undefined;
      if (!completed || !up.complete) throw new OwnRequestError(`${account.name}: the ${purpose} answer ended before response.completed`, 'incomplete', { status, headers: up.headers, body: answer });
      seen.usage = usageFrom(completed.usage);
      return { events, headers: up.headers, status, id: typeof completed.id === 'string' ? completed.id : undefined, usage: seen.usage };
    }
  } finally {
    deps.bus.emit('request', { at: deps.clock.now(), account: account.name, model: String(body.model ?? ''), route: 'responses', client: `aigate ${purpose}`, status: seen.status, totalMs: performance.now() - started, usage: seen.usage, hops: [] });
  }
}

/** A JSON answer as one event; an answer that is not JSON holds no `response.completed`. */
function jsonAnswer(answer: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(answer.toString() || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Usage in the wire shape Codex reads. */
function wireUsage(u: TokenUsage): Record<string, unknown> {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.totalTokens,
  };
}

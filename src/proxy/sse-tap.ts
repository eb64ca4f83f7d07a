import type { TokenUsage } from '../state/events.js';

/** Bytes kept from the end of a response: enough for any terminal event's usage and error. */
const TAIL_BYTES = 64 * 1024;
/** Bytes kept from the start of the last event: enough for its `event:` line or `"type"`. */
export const HEAD_BYTES = 512;
const BOUNDARY = Buffer.from('\n\n');
const USAGE_KEY = Buffer.from('"usage":');
const TYPE = /^event: *(\S+)|"type" *: *"([^"]+)"/m;
const EMPTY = Buffer.alloc(0);

export interface TapResult {
  /** The `type` of the last SSE event, e.g. `response.completed`. */
  lastType?: string;
  /** The last event's JSON, for `response.failed` (its error), when it fit in the tail. */
  lastEvent?: Record<string, unknown>;
  usage?: TokenUsage;
}

/**
 * Reads a response as it passes without delaying or altering it. What it
 * needs is all in the last event: its type (in its first bytes), its usage
 * (`response.completed` repeats the whole output before its `usage`, so the
 * usage is at its end) and, for `response.failed`, its error. So it keeps the
 * last event only: the chunk it ends in by reference, and — when the event goes
 * on over more chunks — the head and the last 64 KiB copied as each earlier
 * chunk is left behind. A chatty stream's chunks each hold whole events and are
 * never copied; no chunk is held past the next one, so every chunk can still
 * be collected as soon as the socket has written it.
 */
/**
 * Tail buffers are reused across responses: a fresh 128 KiB per stream is external memory that
 * V8 answers with full collections on bulky streams. The pool keeps enough for the usual
 * concurrency; beyond it, buffers are simply allocated and dropped.
 */
const pool: Buffer[] = [];
const POOL_MAX = 64;

export class ResponseTap {
  /** The last event's bytes before `pending`, at most the last TAIL_BYTES (taken from the pool when needed). */
  private tail?: Buffer;
  private tailLen = 0;
  private done?: TapResult;
  /** The last event's first bytes, once it began before `pending`. */
  private head?: Buffer;
  private headLen = 0;
  /** The newest chunk, and where in it the last event's bytes begin (not copied yet). */
  private pending?: Buffer;
  private pendingFrom = 0;
  /** Offset (in the whole response) where the last event began. */
  private eventStart = 0;
  /** The data so far ends with a boundary: the next byte begins an event. */
  private startsNext = true;
  private lastByte = 0;
  bytes = 0;

  readonly push = (chunk: Buffer): void => {
    if (this.done || !chunk.length) return;
    const start = this.lastEventStart(chunk);
    if (start >= 0) {
      // A new last event: nothing before it matters any more.
      this.eventStart = this.bytes + start;
      this.tailLen = 0;
      this.headLen = 0;
      this.head = undefined;
      this.pendingFrom = start;
    } else {
      this.settle();
      this.pendingFrom = 0;
    }
    this.pending = chunk;
    this.bytes += chunk.length;
  };

  /** Where the last event that begins in `chunk` starts, or -1 (a boundary may straddle chunks). */
  private lastEventStart(chunk: Buffer): number {
    const n = chunk.length;
    const straddles = this.lastByte === 0x0a && chunk[0] === 0x0a;
    // The greatest `\n\n` that has event bytes after it within this chunk.
    const at = n >= 3 ? chunk.lastIndexOf(BOUNDARY, n - 3) : -1;
    const start = at >= 0 ? at + 2 : straddles && n > 1 ? 1 : this.startsNext ? 0 : -1;
    this.startsNext = n >= 2 ? chunk[n - 2] === 0x0a && chunk[n - 1] === 0x0a : straddles;
    this.lastByte = chunk[n - 1]!;
    return start;
  }

  /** The pending chunk is left behind: copies what the last event needs of it. */
  private settle(): void {
    const chunk = this.pending;
    if (!chunk) return;
    const from = this.pendingFrom;
    if (this.headLen < HEAD_BYTES) {
      this.head ??= Buffer.allocUnsafe(HEAD_BYTES);
      this.headLen += chunk.copy(this.head, this.headLen, from, Math.min(chunk.length, from + HEAD_BYTES - this.headLen));
    }
    this.append(chunk, from);
    this.pending = undefined;
  }

  private append(chunk: Buffer, from: number): void {
    const tail = (this.tail ??= pool.pop() ?? Buffer.allocUnsafeSlow(2 * TAIL_BYTES));
    const len = chunk.length - from;
    if (len >= TAIL_BYTES) {
      chunk.copy(tail, 0, chunk.length - TAIL_BYTES);
      this.tailLen = TAIL_BYTES;
      return;
    }
    if (this.tailLen + len > tail.length) {
      // Full: keep only what the tail needs, then append.
      const keep = TAIL_BYTES - len;
      tail.copy(tail, 0, this.tailLen - keep, this.tailLen);
      this.tailLen = keep;
    }
    chunk.copy(tail, this.tailLen, from);
    this.tailLen += len;
  }

  /** What the response said at its end. Call once the response is over: the tap then returns its buffer. */
  result(): TapResult {
    if (this.done) return this.done;
    const pending = this.pending?.subarray(this.pendingFrom) ?? EMPTY;
    if (this.head && this.headLen < HEAD_BYTES) this.headLen += pending.copy(this.head, this.headLen, 0, HEAD_BYTES - this.headLen);
    const head = this.head ? this.head.subarray(0, this.headLen) : pending.subarray(0, HEAD_BYTES);
    let tail = pending.subarray(Math.max(0, pending.length - TAIL_BYTES));
    if (this.tailLen) {
      this.append(pending, 0);
      tail = this.tail!.subarray(0, this.tailLen);
    }
    const lastType = typeIn(head);
    let lastEvent: Record<string, unknown> | undefined;
    const fromEnd = this.bytes - this.eventStart;
    if (lastType === 'response.failed' && fromEnd <= tail.length) lastEvent = eventJson(tail.subarray(tail.length - fromEnd));
    this.done = { lastType, lastEvent, usage: usageFrom(lastUsageObject(tail)) };
    if (this.tail && pool.length < POOL_MAX) pool.push(this.tail);
    this.tail = undefined;
    this.pending = undefined;
    return this.done;
  }
}

function typeIn(head: Buffer): string | undefined {
  const m = TYPE.exec(head.toString('latin1'));
  return m ? (m[1] ?? m[2]) : undefined;
}

/** The error object of a `response.failed` event (`response.error`, or a bare `error`); `{}` when it gives none. */
export function failedError(event: Record<string, unknown> | undefined): Record<string, unknown> {
  const error = (event?.response as Record<string, unknown> | undefined)?.error ?? event?.error;
  return error && typeof error === 'object' ? (error as Record<string, unknown>) : {};
}

/**
 * The first complete SSE event of a stream, once `buffered` holds one. With `named`, the event is parsed only
 * when its bytes mention that name (the gateway only needs a first `response.failed`; parsing every
 * `response.created` cost each turn ~20 µs).
 */
export function firstEvent(buffered: Buffer, named?: string): { event?: Record<string, unknown>; complete: boolean } {
  const end = buffered.indexOf(BOUNDARY);
  if (end < 0) return { complete: false };
  const block = buffered.subarray(0, end);
  return { event: named === undefined || block.includes(named) ? eventJson(block) : undefined, complete: true };
}

/** Every event of a whole SSE body, parsed (for the small answers the gateway reads in full). */
export function sseEvents(body: Buffer): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const block of body.toString('utf8').replace(/\r\n/g, '\n').split('\n\n')) {
    if (!block.trim()) continue;
    const event = eventJson(Buffer.from(block));
    if (event) events.push(event);
  }
  return events;
}

/** The JSON of an SSE event's `data:` lines, or of a plain JSON body. */
function eventJson(block: Buffer): Record<string, unknown> | undefined {
  const text = block.toString('utf8');
  let data = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5).replace(/\r$/, '');
  }
  return jsonObject(data || text);
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The last `"usage":{…}` object in the tail (usage objects hold only numbers and nested objects). */
function lastUsageObject(tail: Buffer): unknown {
  const at = tail.lastIndexOf(USAGE_KEY);
  if (at < 0) return undefined;
  const open = tail.indexOf(0x7b, at); // {
  if (open < 0) return undefined;
  let depth = 0;
  for (let i = open; i < tail.length; i++) {
    if (tail[i] === 0x7b) depth++;
    else if (tail[i] === 0x7d && --depth === 0) return jsonObject(tail.subarray(open, i + 1).toString('latin1'));
  }
  return undefined;
}

export function usageFrom(u: unknown): TokenUsage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const o = u as { input_tokens?: number; output_tokens?: number; total_tokens?: number; input_tokens_details?: { cached_tokens?: number }; output_tokens_details?: { reasoning_tokens?: number } };
  if (typeof o.input_tokens !== 'number' && typeof o.output_tokens !== 'number') return undefined;
  const input = o.input_tokens ?? 0;
  const output = o.output_tokens ?? 0;
  return {
    inputTokens: input,
    cachedTokens: o.input_tokens_details?.cached_tokens ?? 0,
    outputTokens: output,
    reasoningTokens: o.output_tokens_details?.reasoning_tokens ?? 0,
    totalTokens: o.total_tokens ?? input + output,
  };
}

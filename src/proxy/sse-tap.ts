import type { TokenUsage } from '../state/events.js';

/** Bytes kept from the end of a response: enough for any terminal event's type, error and usage. */
const TAIL_BYTES = 64 * 1024;
const BOUNDARY = Buffer.from('\n\n');
const USAGE_KEY = Buffer.from('"usage":');

export interface TapResult {
  /** The `type` of the last complete SSE event, e.g. `response.completed`. */
  lastType?: string;
  /** The last event's JSON when it fit in the tail. */
  lastEvent?: Record<string, unknown>;
  usage?: TokenUsage;
}

/**
 * Reads a response as it passes without delaying or altering it. Each chunk
 * costs one array push: the tap keeps references to the last ~64 KiB and only
 * looks at them when the response ends. `response.completed` carries the whole
 * output before its `usage`, so the usage object is always in the tail even
 * when the event itself is megabytes long.
 */
export class ResponseTap {
  private chunks: Buffer[] = [];
  private size = 0;
  bytes = 0;

  readonly push = (chunk: Buffer): void => {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.bytes += chunk.length;
    while (this.size - this.chunks[0]!.length >= TAIL_BYTES) this.size -= this.chunks.shift()!.length;
  };

  result(): TapResult {
    const tail = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    const event = lastEvent(tail);
    const usageSource = event?.response ?? event;
    const usage = usageFrom((usageSource as Record<string, unknown> | undefined)?.usage) ?? usageFrom(lastUsageObject(tail));
    return { lastType: typeof event?.type === 'string' ? event.type : undefined, lastEvent: event, usage };
  }
}

/** The first complete SSE event of a stream, once `buffered` holds one. */
export function firstEvent(buffered: Buffer): { event?: Record<string, unknown>; complete: boolean } {
  const end = buffered.indexOf(BOUNDARY);
  if (end < 0) return { complete: false };
  return { event: eventJson(buffered.subarray(0, end)), complete: true };
}

function lastEvent(tail: Buffer): Record<string, unknown> | undefined {
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === 0x0a || tail[end - 1] === 0x0d)) end--;
  if (end === 0) return undefined;
  const start = tail.lastIndexOf(BOUNDARY, end - 1);
  if (start < 0 && tail.length >= TAIL_BYTES) return undefined; // began before the tail
  const text = tail.subarray(start < 0 ? 0 : start + 2, end);
  return eventJson(text) ?? jsonObject(text.toString('utf8'));
}

/** The JSON of an SSE event's `data:` lines. */
function eventJson(block: Buffer): Record<string, unknown> | undefined {
  const text = block.toString('utf8');
  let data = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5).replace(/\r$/, '');
  }
  return data ? jsonObject(data) : undefined;
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The last `"usage":{…}` object in the tail, for events too long to keep whole. */
function lastUsageObject(tail: Buffer): unknown {
  const at = tail.lastIndexOf(USAGE_KEY);
  if (at < 0) return undefined;
  const open = tail.indexOf(0x7b, at); // {
  if (open < 0) return undefined;
  let depth = 0;
  for (let i = open; i < tail.length; i++) {
    if (tail[i] === 0x7b) depth++;
    else if (tail[i] === 0x7d && --depth === 0) return jsonObject(tail.subarray(open, i + 1).toString('utf8'));
  }
  return undefined;
}

function usageFrom(u: unknown): TokenUsage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const o = u as Record<string, any>;
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

/**
 * What the fake upstream's "model" says, and which account-bound state it can
 * read — the facts in codex-protocol.md: encrypted reasoning, remote compaction
 * items and `x-codex-turn-state` are readable only by the account (tag) that
 * made them; a request holding another account's is refused with 400
 * `invalid_encrypted_content`. Blobs name their maker so tests can count leaks:
 * `enc:<tag>:…` (reasoning), `cmp:<tag>:<base64url JSON>` (compaction: what the
 * history it replaced said), `ts:<tag>:<n>` (turn state).
 */

export function sseEvent(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

export const usage = { input_tokens: 120, input_tokens_details: { cached_tokens: 20 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 8 }, total_tokens: 150 };
export type Usage = typeof usage;

let responseCounter = 0;
const nextId = (tag: string) => `resp_${tag}_${++responseCounter}`;

/** The events of one complete answer: created, (reasoning), message deltas, output items done, completed. */
export function answerEvents(options: { text: string; tag: string; reasoning?: boolean; deltas?: number; id?: string; usage?: Usage }): string[] {
  const id = options.id ?? nextId(options.tag);
  const events = [sseEvent('response.created', { response: { id, status: 'in_progress', output: [] } })];
  const output: unknown[] = [];
  if (options.reasoning) {
    const item = { id: `rs_${options.tag}_${responseCounter}`, type: 'reasoning', summary: [], encrypted_content: `enc:${options.tag}:${'x'.repeat(64)}` };
    events.push(sseEvent('response.output_item.added', { output_index: 0, item: { ...item, encrypted_content: undefined } }));
    events.push(sseEvent('response.output_item.done', { output_index: 0, item }));
    output.push(item);
  }
  const msgId = `msg_${options.tag}_${responseCounter}`;
  events.push(sseEvent('response.output_item.added', { output_index: output.length, item: { id: msgId, type: 'message', role: 'assistant', content: [] } }));
  const n = Math.max(1, options.deltas ?? 1);
  const size = Math.ceil(options.text.length / n);
  for (let i = 0; i < n; i++) {
    const delta = options.text.slice(i * size, (i + 1) * size);
    if (delta) events.push(sseEvent('response.output_text.delta', { item_id: msgId, output_index: output.length, content_index: 0, delta }));
  }
  const message = { id: msgId, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: options.text, annotations: [] }] };
  events.push(sseEvent('response.output_item.done', { output_index: output.length, item: message }));
  output.push(message);
  events.push(sseEvent('response.completed', { response: { id, status: 'completed', output, usage: options.usage ?? usage } }));
  return events;
}

export function toolCallEvents(tag: string, name: string, args: Record<string, unknown>, use: Usage = usage): string[] {
  const id = nextId(tag);
  const item = { id: `fc_${tag}_${responseCounter}`, type: 'function_call', call_id: `call_${tag}_${responseCounter}`, name, arguments: JSON.stringify(args), status: 'completed' };
  return [
    sseEvent('response.created', { response: { id, status: 'in_progress', output: [] } }),
    sseEvent('response.output_item.added', { output_index: 0, item: { ...item, arguments: '' } }),
    sseEvent('response.output_item.done', { output_index: 0, item }),
    sseEvent('response.completed', { response: { id, status: 'completed', output: [item], usage: use } }),
  ];
}

/** What a compaction stands for: the texts of the history it replaced, nested compactions included. */
export interface Compacted {
  users: string[];
  assistants: string[];
  tools: string[];
}

type Item = Record<string, any>;
const textsOf = (item: Item) => (Array.isArray(item.content) ? item.content : []).map((c: Item) => String(c.text ?? '')).filter(Boolean);

/** Reads the history this account can read; nested compactions of its own are unfolded. */
export function standsFor(input: Item[], tag: string): Compacted {
  const out: Compacted = { users: [], assistants: [], tools: [] };
  for (const item of input) {
    if (item.type === 'message' && item.role === 'user') out.users.push(...textsOf(item).filter((t: string) => !t.startsWith('<environment_context>')));
    else if (item.type === 'message' && item.role === 'assistant') out.assistants.push(...textsOf(item));
    else if (item.type === 'function_call_output') out.tools.push(String(item.output?.content ?? item.output ?? ''));
    else if (item.type === 'compaction') {
      const inner = readCompaction(item.encrypted_content, tag);
      if (inner) for (const k of ['users', 'assistants', 'tools'] as const) out[k].push(...inner[k]);
    }
  }
  return out;
}

export function compactionBlob(tag: string, stands: Compacted): string {
  return `cmp:${tag}:${Buffer.from(JSON.stringify(stands)).toString('base64url')}`;
}

/** The texts a compaction blob of `tag`'s stands for; undefined for another account's (or no) blob. */
export function readCompaction(blob: unknown, tag: string): Compacted | undefined {
  const m = typeof blob === 'string' ? /^cmp:([^:]+):(.*)$/.exec(blob) : null;
  if (!m || m[1] !== tag) return undefined;
  return JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8'));
}

/** The events answering a `compaction_trigger` request: exactly one compaction item, then completed. */
export function compactionEvents(tag: string, input: Item[], use: Usage = usage): string[] {
  const id = nextId(tag);
  const item = { type: 'compaction', id: `cmp_${tag}_${responseCounter}`, encrypted_content: compactionBlob(tag, standsFor(input.slice(0, -1), tag)) };
  return [
    sseEvent('response.created', { response: { id, status: 'in_progress', output: [] } }),
    sseEvent('response.output_item.added', { output_index: 0, item }),
    sseEvent('response.output_item.done', { output_index: 0, item }),
    sseEvent('response.completed', { response: { id, status: 'completed', output: [item], usage: use } }),
  ];
}

/** The first piece of state in a request that only another account can read, described; undefined when none. */
export function foreignState(raw: string, turnState: string | undefined, tag: string): string | undefined {
  for (const m of raw.matchAll(/"(enc|cmp):([A-Za-z0-9_-]+):/g)) if (m[2] !== tag) return `${m[1] === 'enc' ? 'reasoning' : 'a compaction'} of ${m[2]}`;
  const ts = turnState ? /^ts:([^:]+):/.exec(turnState) : null;
  if (ts && ts[1] !== tag) return `the turn state of ${ts[1]}`;
  return undefined;
}

/** The compaction blobs among `input`'s items. */
export const compactionBlobs = (input: Item[]): string[] => input.filter((i) => i.type === 'compaction').map((i) => String(i.encrypted_content));

export const isCompactionRequest = (input: Item[] | undefined) => input?.at(-1)?.type === 'compaction_trigger';

/** A request that asks for a summary of the conversation (what a gateway does for an account that cannot compact). */
export function isSummaryRequest(input: Item[] | undefined): boolean {
  const last = input?.at(-1);
  return !!last && last.type === 'message' && last.role === 'user' && /summar/i.test(textsOf(last).join(' '));
}

/** A model's summary of the history: every user and assistant text it saw, so a test can tell what it stands for. */
export function summaryText(tag: string, input: Item[]): string {
  const { users, assistants, tools } = standsFor(input.slice(0, -1), tag);
  return `Summary by ${tag}: ${JSON.stringify({ users, assistants, tools })}`;
}

/**
 * A fake Responses API upstream (ChatGPT Codex backend or a third-party
 * provider) that behaves like the facts in codex-protocol.md: SSE events Codex
 * accepts, usage in `response.completed`, `x-codex-*` rate-limit headers,
 * 429 `usage_limit_reached` bodies, and scripted faults. It listens on
 * 127.0.0.1 only and records every request it sees.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decompress as zstdDecompress } from 'fzstd';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received. */
  raw: Buffer;
  /** Decoded (zstd) and parsed JSON, when it is JSON. */
  json?: any;
}

/** What the next request gets. Unscripted requests get a normal answer. */
export type Plan =
  | { kind: 'ok'; text?: string; delayMs?: number }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'usage-limit'; resetsAt: number }
  | { kind: 'failed-first'; code: string; message?: string }
  | { kind: 'failed-last'; code: string; resetsAt?: number }
  | { kind: 'cut'; afterEvents: number }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'tool-call'; name: string; arguments: Record<string, unknown> }
  /** Exactly these bytes, in these chunks, with these headers. */
  | { kind: 'raw'; status?: number; headers: Record<string, string>; chunks: (string | Buffer)[] }
  /** Headers and the first event, then nothing until the client goes away. */
  | { kind: 'stall'; onClose?: () => void };

export interface MockOptions {
  /** A tag put into every encrypted reasoning item, to tell which account produced it. */
  tag: string;
  /** Adds a reasoning item with `encrypted_content` to each answer (as ChatGPT does with `include`). */
  reasoning?: boolean;
  /** `x-codex-*` headers on every response. */
  rateLimits?: { primaryUsed: number; secondaryUsed: number; primaryResetAt?: number; secondaryResetAt?: number };
  /** The `/models` answer. */
  models?: unknown;
  /** Text deltas per answer. */
  deltas?: number;
  /** Checks the bearer like the real backend would; `false` answers 401 (e.g. a token the mock auth server never issued or that expired). */
  authorize?: (authorization: string | undefined) => boolean;
  /** Fails this share of unscripted requests with a random fault, drawn from `random` (seed it for repeatable runs). */
  chaos?: { rate: number; random: () => number };
}

/** The faults a chaos run draws from: every way codex-protocol.md says an upstream can fail. */
export const CHAOS_FAULTS = ['usage-limit', '500', '503', 'cut', 'reset', 'failed-first'] as const;

function chaosPlan(random: () => number): Plan {
  const fault = CHAOS_FAULTS[Math.floor(random() * CHAOS_FAULTS.length)]!;
  switch (fault) {
    case 'usage-limit':
      return { kind: 'usage-limit', resetsAt: Math.floor(Date.now() / 1000) + 2 };
    case '500':
    case '503':
      return { kind: 'status', status: Number(fault) };
    case 'cut':
      return { kind: 'cut', afterEvents: 2 + Math.floor(random() * 3) };
    case 'reset':
      return { kind: 'reset' };
    case 'failed-first':
      return { kind: 'failed-first', code: 'server_error' };
  }
}

/** A small seeded PRNG (mulberry32) for repeatable chaos. */
export function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MockUpstream {
  url: string;
  port: number;
  seen: SeenRequest[];
  plans: Plan[];
  options: MockOptions;
  /** Responses (POST /responses) the mock answered. */
  served: number;
  /** What each of those got: `ok`, `usage-limit`, `503`, `cut`, … */
  log: string[];
  close(): Promise<void>;
}

let responseCounter = 0;

export function sseEvent(type: string, payload: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
}

export const usage = { input_tokens: 120, input_tokens_details: { cached_tokens: 20 }, output_tokens: 30, output_tokens_details: { reasoning_tokens: 8 }, total_tokens: 150 };

/** The events of one complete answer: created, (reasoning), message deltas, output items done, completed. */
export function answerEvents(options: { text: string; tag: string; reasoning?: boolean; deltas?: number; id?: string }): string[] {
  const id = options.id ?? `resp_${options.tag}_${++responseCounter}`;
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
  events.push(sseEvent('response.completed', { response: { id, status: 'completed', output, usage } }));
  return events;
}

function toolCallEvents(tag: string, name: string, args: Record<string, unknown>): string[] {
  const id = `resp_${tag}_${++responseCounter}`;
  const item = { id: `fc_${tag}_${responseCounter}`, type: 'function_call', call_id: `call_${tag}_${responseCounter}`, name, arguments: JSON.stringify(args), status: 'completed' };
  return [
    sseEvent('response.created', { response: { id, status: 'in_progress', output: [] } }),
    sseEvent('response.output_item.added', { output_index: 0, item: { ...item, arguments: '' } }),
    sseEvent('response.output_item.done', { output_index: 0, item }),
    sseEvent('response.completed', { response: { id, status: 'completed', output: [item], usage } }),
  ];
}

function decodeJson(raw: Buffer, encoding: string | undefined): any {
  try {
    const bytes = encoding === 'zstd' ? Buffer.from(zstdDecompress(raw)) : raw;
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function startMockUpstream(options: MockOptions): Promise<MockUpstream> {
  const mock: MockUpstream = { url: '', port: 0, seen: [], plans: [], options, served: 0, log: [], close: async () => undefined };
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const path = req.url ?? '/';
    mock.seen.push({ method: req.method ?? '', path, headers: req.headers, raw, json: decodeJson(raw, req.headers['content-encoding'] as string | undefined) });
    const headers: Record<string, string> = { 'x-request-id': `req_${mock.seen.length}` };
    if (mock.options.authorize && !mock.options.authorize(req.headers.authorization as string | undefined)) {
      res.writeHead(401, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: { message: 'mock: access token expired or unknown', type: 'invalid_request_error', code: 'token_expired' } }));
      return;
    }
    const rl = mock.options.rateLimits;
    if (rl) {
      Object.assign(headers, {
        'x-codex-primary-used-percent': String(rl.primaryUsed),
        'x-codex-primary-window-minutes': '300',
        'x-codex-primary-reset-at': String(rl.primaryResetAt ?? Math.floor(Date.now() / 1000) + 3600),
        'x-codex-secondary-used-percent': String(rl.secondaryUsed),
        'x-codex-secondary-window-minutes': '10080',
        'x-codex-secondary-reset-at': String(rl.secondaryResetAt ?? Math.floor(Date.now() / 1000) + 86400),
      });
    }
    if (req.method === 'GET' && /\/models(\?|$)/.test(path)) {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(mock.options.models ?? { models: [] }));
      return;
    }
    if (req.method !== 'POST' || !/\/responses(\/compact)?(\?|$)/.test(path)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `mock: no route ${req.method} ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    mock.served++;
    const chaos = mock.options.chaos;
    const plan = mock.plans.shift() ?? (chaos && chaos.random() < chaos.rate ? chaosPlan(chaos.random) : { kind: 'ok' });
    mock.log.push(plan.kind === 'status' ? String(plan.status) : plan.kind);
    const sse = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers };
    const json = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers, ...extra });
      res.end(JSON.stringify(body));
    };
    if (/\/compact/.test(path)) {
      json(200, { output: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'compacted' }] }], usage });
      return;
    }
    const tag = mock.options.tag;
    switch (plan.kind) {
      case 'status':
        json(plan.status, plan.body ?? { error: { message: `mock ${plan.status}`, type: 'server_error' } }, plan.headers);
        return;
      case 'usage-limit':
        json(429, { error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: 'plus', resets_at: plan.resetsAt, resets_in_seconds: plan.resetsAt - Math.floor(Date.now() / 1000) } });
        return;
      case 'failed-first':
        res.writeHead(200, sse);
        res.end(sseEvent('response.failed', { response: { id: `resp_${tag}_f`, status: 'failed', error: { code: plan.code, message: plan.message ?? plan.code } } }));
        return;
      case 'failed-last': {
        const events = answerEvents({ text: 'partial', tag }).slice(0, 2);
        res.writeHead(200, sse);
        res.end(events.join('') + sseEvent('response.failed', { response: { id: `resp_${tag}_f`, status: 'failed', error: { code: plan.code, message: plan.code, resets_at: plan.resetsAt } } }));
        return;
      }
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'hang':
        res.on('close', () => undefined);
        return; // never answers; the gateway's timeout or the client's disconnect ends it
      case 'cut': {
        const events = answerEvents({ text: 'this answer will be cut', tag, deltas: 6 });
        res.writeHead(200, sse);
        res.write(events.slice(0, plan.afterEvents).join(''));
        res.write('data: {"type":"response.output_te'); // half an event, then the connection drops
        setTimeout(() => req.socket.destroy(), 10);
        return;
      }
      case 'raw':
        res.writeHead(plan.status ?? 200, plan.headers);
        for (const chunk of plan.chunks) res.write(chunk);
        res.end();
        return;
      case 'stall':
        res.writeHead(200, sse);
        res.write(answerEvents({ text: 'stalled', tag })[0]!);
        res.on('close', () => plan.onClose?.());
        return;
      case 'tool-call':
        res.writeHead(200, sse);
        res.end(toolCallEvents(tag, plan.name, plan.arguments).join(''));
        return;
      case 'ok': {
        const text = plan.text ?? `Hello from ${tag}.`;
        res.writeHead(200, sse);
        if (plan.delayMs) await new Promise((r) => setTimeout(r, plan.delayMs));
        res.end(answerEvents({ text, tag, reasoning: mock.options.reasoning, deltas: mock.options.deltas }).join(''));
        return;
      }
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mock.port = (server.address() as AddressInfo).port;
  mock.url = `http://127.0.0.1:${mock.port}`;
  mock.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return mock;
}

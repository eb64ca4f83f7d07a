/**
 * A fake Responses API upstream (ChatGPT Codex backend or a third-party
 * provider) that behaves like the facts in codex-protocol.md: SSE events Codex
 * accepts, usage in `response.completed`, `x-codex-*` rate-limit headers,
 * 429 `usage_limit_reached` bodies, remote compaction, account-bound state
 * (spec/mock-model.ts), and scripted faults. It listens on 127.0.0.1 only and
 * records every request it sees.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decompress as zstdDecompress } from 'fzstd';
import { answerEvents, compactionEvents, foreignState, isCompactionRequest, isSummaryRequest, sseEvent, standsFor, summaryText, toolCallEvents, usage, type Usage } from './mock-model.js';

export { answerEvents, sseEvent, usage };

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as received. */
  raw: Buffer;
  /** Decoded (zstd) and parsed JSON, when it is JSON. */
  json?: any;
}

/** A request's body as text to search: its decoded JSON (zstd bodies too), else its bytes as they came. */
export const bodyText = (s: SeenRequest): string => (s.json !== undefined ? JSON.stringify(s.json) : s.raw.toString('latin1'));

/** Account-bound state (reasoning, compaction, turn state) any of `mocks` received that another account made. */
export const leaks = (mocks: Record<string, MockUpstream>): string[] =>
  Object.entries(mocks).flatMap(([tag, mock]) =>
    mock.seen.flatMap((s) => [...(bodyText(s) + JSON.stringify(s.headers)).matchAll(/(enc|cmp|ts):([A-Za-z0-9_-]+):/g)].filter((m) => m[2] !== tag).map((m) => `${tag} got ${m[2]}'s ${m[1]}`)),
  );

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
  /** Refuse (400 `invalid_encrypted_content`) a request holding another account's reasoning, compaction or turn state. @default true */
  strict?: boolean;
  /** `unsupported`: answer `compaction_trigger` like a provider without remote compaction (400 `invalid_value`). @default 'remote' */
  compaction?: 'remote' | 'unsupported';
  /** The usage every answer reports (large input counts make Codex compact). */
  usage?: Usage;
  /** Answer a new turn whose prompt holds `[tool:ID]` with an `exec_command` call running `echo tool-output-ID`. */
  tools?: boolean;
}

/** The faults a chaos run draws from: every way codex-protocol.md says an upstream can fail. */
export const CHAOS_FAULTS = ['usage-limit', '500', '503', 'cut', 'reset', 'failed-first', 'overloaded-late', 'quota-late'] as const;

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
    case 'overloaded-late':
      return { kind: 'failed-last', code: 'server_is_overloaded' };
    case 'quota-late':
      return { kind: 'failed-last', code: 'usage_limit_reached', resetsAt: Math.floor(Date.now() / 1000) + 2 };
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
  /** What each of those got: `ok`, `usage-limit`, `503`, `cut`, `refused`, … */
  log: string[];
  /** Why each refused request was refused (another account's state it held). */
  refused: string[];
  /** Turn states handed out, in order. */
  turnStates: string[];
  close(): Promise<void>;
}

/**
 * `ID` when the turn's prompt asks for a tool run with `[tool:ID]` and the tool has not run yet, as a
 * model would judge it. The prompt is the last user message; only compaction items may follow it (Codex
 * 0.171 puts the compaction after the messages it keeps, so a turn that compacts asks with
 * `[…, prompt, compaction]`). The tool has run when its output is in the history this account can
 * read — in the input or inside one of its own compactions.
 */
function toolRequested(input: any[] | undefined, tag: string): string | undefined {
  for (let i = (input?.length ?? 0) - 1; i >= 0; i--) {
    const item = input![i];
    if (item?.type === 'compaction') continue;
    if (item?.type !== 'message' || item.role !== 'user') return undefined;
    const id = /\[tool:([\w-]+)\]/.exec(JSON.stringify(item.content))?.[1];
    return id && !standsFor(input!, tag).tools.some((out) => out.includes(`tool-output-${id}`)) ? id : undefined;
  }
  return undefined;
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
  const mock: MockUpstream = { url: '', port: 0, seen: [], plans: [], options, served: 0, log: [], refused: [], turnStates: [], close: async () => undefined };
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
    const body = mock.seen.at(-1)!.json;
    const foreign = mock.options.strict === false ? undefined : foreignState(JSON.stringify(body ?? {}), req.headers['x-codex-turn-state'] as string | undefined, mock.options.tag);
    if (foreign) {
      mock.log.push('refused');
      mock.refused.push(foreign);
      res.writeHead(400, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: { message: `The encrypted content could not be verified (the request holds ${foreign}).`, type: 'invalid_request_error', code: 'invalid_encrypted_content', param: 'input' } }));
      return;
    }
    const compacting = isCompactionRequest(body?.input);
    if (compacting && mock.options.compaction === 'unsupported') {
      mock.log.push('compaction-unsupported');
      res.writeHead(400, { 'content-type': 'application/json', ...headers });
      const at = body.input.length - 1;
      res.end(JSON.stringify({ error: { message: `Invalid value: 'compaction_trigger'. Supported values are: 'message', 'reasoning', 'function_call', 'function_call_output'.`, type: 'invalid_request_error', param: `input[${at}].type`, code: 'invalid_value' } }));
      return;
    }
    const chaos = mock.options.chaos;
    const plan = mock.plans.shift() ?? (chaos && chaos.random() < chaos.rate ? chaosPlan(chaos.random) : { kind: 'ok' });
    mock.log.push(plan.kind === 'status' ? String(plan.status) : plan.kind);
    const sse = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers };
    /** A routing token of this account's, which Codex echoes on the rest of the turn. */
    const turnState = () => {
      const ts = `ts:${mock.options.tag}:${mock.turnStates.length + 1}`;
      mock.turnStates.push(ts);
      return { 'x-codex-turn-state': ts };
    };
    const json = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers, ...extra });
      res.end(JSON.stringify(body));
    };
    if (/\/compact/.test(path)) {
      json(200, { output: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'compacted' }] }], usage });
      return;
    }
    const tag = mock.options.tag;
    const use = mock.options.usage ?? usage;
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
        res.writeHead(200, { ...sse, ...turnState() });
        res.end(toolCallEvents(tag, plan.name, plan.arguments, use).join(''));
        return;
      case 'ok': {
        res.writeHead(200, { ...sse, ...turnState() });
        if (plan.delayMs) await new Promise((r) => setTimeout(r, plan.delayMs));
        if (compacting) return void res.end(compactionEvents(tag, body.input, use).join(''));
        const tool = mock.options.tools ? toolRequested(body?.input, tag) : undefined;
        if (tool) return void res.end(toolCallEvents(tag, 'exec_command', { cmd: `echo tool-output-${tool}` }, use).join(''));
        const text = plan.text ?? (isSummaryRequest(body?.input) ? summaryText(tag, body.input) : `Hello from ${tag}.`);
        res.end(answerEvents({ text, tag, reasoning: mock.options.reasoning, deltas: mock.options.deltas, usage: use }).join(''));
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

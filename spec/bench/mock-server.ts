/**
 * The bench's upstream, run as its own process so its CPU is not billed to the
 * proxies. Streams Responses API SSE (shapes from spec/mock-upstream.ts) one
 * event per socket write, yielding to the event loop between events so each
 * proxy sees real per-event chunks rather than one coalesced buffer.
 *
 *   x-bench-shape: chatty  400 text deltas of 40 B
 *                  bulky    50 text deltas of 4000 B
 *                  small     a one-line answer
 *                  huge     x-bench-bytes of 64 KiB deltas, then a completed event without the output echo
 *   Each stream is what a text turn looks like on the wire: `response.created`, the deltas,
 *   `response.output_item.done` carrying the whole text again, and `response.completed` with usage.
 *   path /a/...            429 usage_limit_reached at once, cooldown 5 ms (the failover case)
 *
 * With BENCH_TLS_CERT and BENCH_TLS_KEY (PEM files) it speaks https instead (the proxy cells).
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { sseEvent, usage } from '../mock-upstream.js';

const text = (bytes: number, n: number) => 'abcdefghijklmnopqrstuvwxyz0123456789 '.repeat(Math.ceil((bytes * n) / 37)).slice(0, bytes * n);

/** created + deltas + output_item.done (the full text) + completed (usage) */
function answer(id: string, deltas: number, bytes: number): Buffer[] {
  const all = text(bytes, deltas);
  const item = { id: `msg_${id}`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: all, annotations: [] }] };
  const events = [sseEvent('response.created', { response: { id, status: 'in_progress', output: [] } })];
  for (let i = 0; i < deltas; i++) events.push(sseEvent('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: all.slice(i * bytes, (i + 1) * bytes) }));
  events.push(sseEvent('response.output_item.done', { output_index: 0, item }));
  events.push(sseEvent('response.completed', { response: { id, status: 'completed', output: [], usage } }));
  return events.map((e) => Buffer.from(e));
}

const shapes: Record<string, Buffer[]> = {
  chatty: answer('resp_chatty', 400, 40),
  bulky: answer('resp_bulky', 50, 4000),
  small: answer('resp_small', 1, 30),
};

function rateLimitHeaders(): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    'x-request-id': `req_${now}`,
    'x-codex-primary-used-percent': '42',
    'x-codex-primary-window-minutes': '300',
    'x-codex-primary-reset-at': String(now + 3600),
    'x-codex-secondary-used-percent': '17',
    'x-codex-secondary-window-minutes': '10080',
    'x-codex-secondary-reset-at': String(now + 86_400),
  };
}

async function write(res: http.ServerResponse, chunk: Buffer): Promise<void> {
  if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
  await tick();
}

async function stream(res: http.ServerResponse, events: Buffer[]): Promise<void> {
  for (const event of events) {
    if (res.destroyed) return;
    await write(res, event);
  }
  res.end();
}

async function huge(res: http.ServerResponse, bytes: number): Promise<void> {
  const delta = Buffer.from(sseEvent('response.output_text.delta', { item_id: 'msg_huge', output_index: 0, content_index: 0, delta: text(64 * 1024, 1) }));
  await write(res, Buffer.from(sseEvent('response.created', { response: { id: 'resp_huge', status: 'in_progress', output: [] } })));
  for (let sent = 0; sent < bytes && !res.destroyed; sent += delta.length) await write(res, delta);
  res.end(sseEvent('response.completed', { response: { id: 'resp_huge', status: 'completed', output: [], usage } }));
}

/** Requests the 429 account answered: the bench checks every failover request really made the hop. */
let limitHits = 0;
process.on('message', (m: { hits?: number }) => {
  if (m.hits !== undefined) process.send!({ hits: m.hits, limitHits });
});

const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
  req.resume();
  req.once('end', () => {
    if (req.url?.startsWith('/a/')) {
      limitHits++;
      const body = JSON.stringify({ error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: 'plus', resets_in_seconds: 0.005 } });
      res.writeHead(429, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...rateLimitHeaders() });
      res.end(body);
      return;
    }
    const shape = String(req.headers['x-bench-shape'] ?? 'small');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...rateLimitHeaders() });
    if (shape === 'huge') void huge(res, Number(req.headers['x-bench-bytes']));
    else void stream(res, shapes[shape] ?? shapes.small!);
  });
};
const tls = process.env.BENCH_TLS_CERT ? { cert: fs.readFileSync(process.env.BENCH_TLS_CERT), key: fs.readFileSync(process.env.BENCH_TLS_KEY!) } : undefined;
const server = tls ? https.createServer(tls, handle) : http.createServer(handle);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));

/**
 * The soak's upstream, run as its own process (`node --import tsx`) so its
 * CPU is not billed to the gateway. Every third-party account points at
 * `/acct/<name>/v1`; what a request gets is decided by its headers (which the
 * gateway passes through) and by the account's name:
 *
 *   x-soak-seed, x-soak-events, x-soak-delta, x-soak-gap-ms   a seeded answer (seeded-stream.ts)
 *   x-soak-big: N                                              a BigStream of N ~48 KiB events
 *   x-soak-fault: reset-before | reset-after-headers | reset-mid-event | no-headers | stall
 *   x-soak-req: ID                                             the fault hits only the first attempt of ID
 *   account storm429-* / storm5xx-*                            429 (resets in 1 s) / 503, always
 *   account redirect-*                                         302 to the trap port (or to file://)
 *
 * A second listener, the trap, counts every request and whether any header
 * carried a registered API key: the gateway must never follow a redirect there.
 * It answers `{stats}` over IPC; API keys arrive over IPC and are never logged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigStream, seededEvents } from './seeded-stream.js';

interface Counters {
  requests: number;
  byAccount: Record<string, number>;
  faults: Record<string, number>;
  authMismatch: number;
  /** How long after its headers each stalled stream was closed by the gateway (ms). */
  stallClosedAfterMs: number[];
  stallsOpen: number;
  /** no-headers requests the gateway gave up on, and after how long. */
  hungClosedAfterMs: number[];
  trapHits: number;
  trapSawKey: number;
  bigBytesSent: number;
  maxConcurrent: number;
  concurrent: number;
}

const counters: Counters = {
  requests: 0,
  byAccount: {},
  faults: {},
  authMismatch: 0,
  stallClosedAfterMs: [],
  stallsOpen: 0,
  hungClosedAfterMs: [],
  trapHits: 0,
  trapSawKey: 0,
  bigBytesSent: 0,
  maxConcurrent: 0,
  concurrent: 0,
};
let keys: Record<string, string> = {};
const attempted = new Set<string>();
let trapPort = 0;

const num = (v: string | string[] | undefined, fallback: number) => {
  const n = Number(Array.isArray(v) ? v[0] : v);
  return Number.isFinite(n) ? n : fallback;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = (kind: string) => (counters.faults[kind] = (counters.faults[kind] ?? 0) + 1);

async function write(res: http.ServerResponse, chunk: Buffer): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(chunk)) await new Promise((r) => res.once('drain', r).once('close', r));
  return !res.destroyed;
}

const SSE = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

async function answer(req: http.IncomingMessage, res: http.ServerResponse, account: string): Promise<void> {
  const h = req.headers;
  if (account.startsWith('storm429')) {
    count('storm429');
    const body = JSON.stringify({ error: { type: 'usage_limit_reached', message: 'mock storm', plan_type: 'plus', resets_in_seconds: 1 } });
    res.writeHead(429, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    return void res.end(body);
  }
  if (account.startsWith('storm5xx')) {
    count('storm5xx');
    res.writeHead(503, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ error: { message: 'mock overloaded', type: 'server_error' } }));
  }
  if (account.startsWith('redirect')) {
    count('redirect');
    const to = account.includes('file') ? 'file:///etc/passwd' : `http://127.0.0.1:${trapPort}/stolen${req.url}`;
    res.writeHead(302, { location: to, 'content-length': 0 });
    return void res.end();
  }
  if (req.url?.endsWith('/models')) {
    const body = JSON.stringify({ models: [] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    return void res.end(body);
  }

  const seed = num(h['x-soak-seed'], 1);
  const reqId = h['x-soak-req'] as string | undefined;
  const firstAttempt = !reqId || !attempted.has(reqId);
  if (reqId) attempted.add(reqId);
  const fault = firstAttempt ? (h['x-soak-fault'] as string | undefined) : undefined;
  const events = seededEvents(seed, { events: num(h['x-soak-events'], 5), deltaChars: num(h['x-soak-delta'], 24) });
  const gap = num(h['x-soak-gap-ms'], 0);

  switch (fault) {
    case 'reset-before':
      count(fault);
      return void req.socket.resetAndDestroy();
    case 'reset-after-headers':
      count(fault);
      res.writeHead(200, SSE);
      res.flushHeaders();
      setTimeout(() => req.socket.resetAndDestroy(), 20);
      return;
    case 'reset-mid-event': {
      count(fault);
      res.writeHead(200, SSE);
      const cut = Math.max(2, Math.floor(events.length / 2));
      for (const e of events.slice(0, cut)) await write(res, e);
      const half = events[cut]!;
      await write(res, half.subarray(0, half.length >> 1));
      setTimeout(() => req.socket.resetAndDestroy(), 20);
      return;
    }
    case 'no-headers': {
      count(fault);
      const started = Date.now();
      res.once('close', () => counters.hungClosedAfterMs.push(Date.now() - started));
      return; // never answers
    }
    case 'stall': {
      count(fault);
      res.writeHead(200, SSE);
      await write(res, events[0]!);
      await write(res, events[1]!);
      const started = Date.now();
      counters.stallsOpen++;
      res.once('close', () => {
        counters.stallsOpen--;
        counters.stallClosedAfterMs.push(Date.now() - started);
      });
      return;
    }
  }

  const big = num(h['x-soak-big'], 0);
  if (big > 0) {
    const stream = new BigStream(seed, big);
    res.writeHead(200, SSE);
    for (const buf of stream.buffers()) {
      if (!(await write(res, buf))) return;
      counters.bigBytesSent += buf.length;
    }
    return void res.end();
  }

  res.writeHead(200, SSE);
  if (!gap) return void res.end(Buffer.concat(events));
  for (const e of events) {
    if (!(await write(res, e))) return;
    await sleep(gap);
  }
  res.end();
}

const server = http.createServer((req, res) => {
  counters.requests++;
  counters.concurrent++;
  counters.maxConcurrent = Math.max(counters.maxConcurrent, counters.concurrent);
  res.once('close', () => counters.concurrent--);
  const account = /^\/acct\/([^/]+)\//.exec(req.url ?? '')?.[1] ?? '?';
  counters.byAccount[account] = (counters.byAccount[account] ?? 0) + 1;
  const key = keys[account];
  if (key && req.headers.authorization !== `Bearer ${key}`) counters.authMismatch++;
  req.resume();
  req.once('end', () => void answer(req, res, account).catch(() => res.destroy()));
});
// Short, so the gateway's idle upstream sockets close soon after a load ends (the fd count settles).
server.keepAliveTimeout = 2_000;

const trap = http.createServer((req, res) => {
  counters.trapHits++;
  const values = Object.values(req.headers).flat().join('\n') + (req.url ?? '');
  if (Object.values(keys).some((k) => values.includes(k))) counters.trapSawKey++;
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('trap');
});

process.on('message', (m: { keys?: Record<string, string>; stats?: number }) => {
  if (m.keys) keys = { ...keys, ...m.keys };
  if (m.stats !== undefined) process.send!({ stats: m.stats, counters });
});

server.listen(0, '127.0.0.1', () => {
  trap.listen(0, '127.0.0.1', () => {
    trapPort = (trap.address() as AddressInfo).port;
    process.send!({ port: (server.address() as AddressInfo).port, trapPort });
  });
});
process.on('disconnect', () => process.exit(0));

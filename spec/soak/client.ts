/**
 * The soak's client: Codex-shaped requests over keep-alive node:http, each
 * response checked end to end against what the mock sent (StreamCheck), and
 * admin API calls whose answers are kept for the secrets scan.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logs } from './processes.js';
import { StreamCheck } from './seeded-stream.js';

const COMPLETED = Buffer.from('"type":"response.completed"');

export function codexBody(seed: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: 'gpt-5.1-codex',
      stream: true,
      store: false,
      prompt_cache_key: `soak-${seed}`,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: `soak request ${seed}` }] }],
    }),
  );
}

export interface StreamResult {
  status: number;
  /** Request start to the first body byte. */
  ttfbMs: number;
  totalMs: number;
  bytes: number;
  /** Every expected byte arrived, and nothing else. */
  whole: boolean;
  /** Nothing wrong arrived (a cut stream may still be a clean prefix). */
  prefix: boolean;
  completed: boolean;
  mismatchAt?: number;
  /** The socket broke (reset, or the gateway closed it mid-response). */
  error?: string;
  body?: string;
}

export interface StreamOptions {
  agent?: http.Agent;
  headers?: Record<string, string>;
  body?: Buffer;
  /** What the mock sends for this request; omitted: only status and completion are checked. */
  expected?: Iterable<Buffer>;
  /** Keep the body text (small error answers). */
  keepBody?: boolean;
  /** Abort after this long (a client that gives up, like Codex's idle timeout). */
  abortAfterMs?: number;
  /** Reads slowly: pauses this long after each chunk (backpressure). */
  pauseMs?: number;
}

/** POSTs one request and reads the whole response, comparing it byte for byte as it arrives. */
export function streamRequest(url: string, options: StreamOptions = {}): Promise<StreamResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const check = options.expected ? new StreamCheck(options.expected) : undefined;
    let ttfb = 0;
    let bytes = 0;
    let completed = false;
    let carry: Buffer = Buffer.alloc(0);
    let status = 0;
    let body = '';
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const c = check?.end();
      resolve({
        status,
        ttfbMs: ttfb,
        totalMs: performance.now() - started,
        bytes,
        whole: c ? c.whole && !error : !error,
        prefix: c ? c.prefix : true,
        completed,
        mismatchAt: c?.mismatchAt,
        error,
        body: options.keepBody ? body : undefined,
      });
    };
    const payload = options.body ?? codexBody(1);
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: options.agent,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': payload.length, ...options.headers },
      },
      (res) => {
        status = res.statusCode ?? 0;
        res.on('data', (chunk: Buffer) => {
          if (!bytes) ttfb = performance.now() - started;
          bytes += chunk.length;
          check?.push(chunk);
          if (options.keepBody && body.length < 65_536) body += chunk.toString('utf8');
          if (!completed) {
            const window = Buffer.concat([carry, chunk.subarray(0, COMPLETED.length)]);
            completed = chunk.includes(COMPLETED) || window.includes(COMPLETED);
            carry = chunk.subarray(Math.max(0, chunk.length - COMPLETED.length));
          }
          if (options.pauseMs) {
            res.pause();
            setTimeout(() => res.resume(), options.pauseMs);
          }
        });
        res.once('end', () => finish(res.complete ? undefined : 'incomplete'));
        res.once('error', (err) => finish(err.message));
        res.once('close', () => finish(res.complete ? undefined : 'closed before the end'));
      },
    );
    const timer = options.abortAfterMs ? setTimeout(() => (req.destroy(), finish('aborted by the client')), options.abortAfterMs) : undefined;
    req.once('error', (err) => finish((err as NodeJS.ErrnoException).code ?? err.message));
    req.end(payload);
  });
}

export interface AdminAnswer {
  status: number;
  text: string;
  json: any;
}

/** One admin API call with the Bearer token; the answer goes to the logs for the secrets scan. */
export function admin(baseUrl: string, token: string, logs: Logs, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<AdminAnswer> {
  return new Promise((resolve) => {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
        ...headers,
      },
    });
    req.once('response', (res) => {
      let out = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (out += d));
      res.once('end', () => {
        logs.record('admin', `${method} ${path} → ${res.statusCode} ${out}`);
        let json: any;
        try {
          json = JSON.parse(out);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text: out, json });
      });
    });
    req.once('error', (err) => resolve({ status: 0, text: err.message, json: undefined }));
    req.end(text);
  });
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

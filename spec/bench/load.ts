/**
 * The bench's client: an undici pool (keep-alive, one request per connection at
 * a time), `concurrency` requests in flight,
 * each timed from the first byte written to the first body byte (TTFB) and to
 * the end. A response counts as good only with status 200 and a
 * `response.completed` event, so a proxy that drops bytes cannot look fast.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { CodexRequest } from './codex-request.js';

export interface Sample {
  ttfb: number;
  total: number;
  bytes: number;
  chunks: number;
  ok: boolean;
  /** SHA-256 of the body, when asked for (`digest`). */
  digest?: string;
}

export interface LoadOptions {
  /** Full URL of the `/responses` endpoint. */
  url: string;
  /** A keep-alive pool on the URL's origin (undici's `Pool`). */
  pool: Dispatcher;
  request: CodexRequest;
  requests: number;
  concurrency: number;
  /** The conversation (`session-id`) of the i-th request. */
  session: (i: number) => string;
  headers?: Record<string, string>;
  /** Idle time between one worker's requests (not timed). */
  gapMs?: number;
  /** Hash each body (the warm-up round does, to check every proxy relays the bytes unchanged). */
  digest?: boolean;
}

const COMPLETED = Buffer.from('response.completed');

export function once(options: LoadOptions, i: number): Promise<Sample> {
  return new Promise((resolve) => {
    const started = performance.now();
    let ttfb = 0;
    let bytes = 0;
    let chunks = 0;
    let completed = false;
    let carry: Buffer | undefined;
    const hash = options.digest ? createHash('sha256') : undefined;
    const failed = () => resolve({ ttfb, total: performance.now() - started, bytes, chunks, ok: false });
    const headers = { ...options.request.headers(options.session(i)), ...options.headers };
    const path = new URL(options.url).pathname;
    options.pool.request({ path, method: 'POST', headers, body: options.request.body }).then(({ statusCode, body }) => {
      body.on('data', (chunk: Buffer) => {
        if (!chunks++) ttfb = performance.now() - started;
        bytes += chunk.length;
        hash?.update(chunk);
        if (!completed) {
          completed = chunk.indexOf(COMPLETED) >= 0 || (!!carry && Buffer.concat([carry, chunk.subarray(0, COMPLETED.length)]).indexOf(COMPLETED) >= 0);
          carry = chunk.subarray(Math.max(0, chunk.length - COMPLETED.length));
        }
      });
      body.on('end', () => resolve({ ttfb, total: performance.now() - started, bytes, chunks, ok: statusCode === 200 && completed, digest: hash?.digest('hex') }));
      body.on('error', failed);
    }, failed);
  });
}

/** Runs `requests` requests with `concurrency` workers; samples in completion order. */
export async function load(options: LoadOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.requests) {
      samples.push(await once(options, next++));
      if (options.gapMs) await sleep(options.gapMs);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return samples;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[at]!;
}

export const sortedBy = (samples: Sample[], key: 'ttfb' | 'total') => samples.map((s) => s[key]).sort((a, b) => a - b);

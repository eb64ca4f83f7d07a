import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { UpstreamTarget } from './providers.js';

// One keep-alive pool per scheme: most turns go to the same one or two hosts. No cap on sockets per
// host: every streaming turn holds its own HTTP/1.1 connection for minutes, so a cap would queue the
// next turn behind them and its headers timeout would count the wait (the soak's 500 streams hit that).
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' }),
};

export class UpstreamError extends Error {
  constructor(
    readonly kind: 'connection' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

export interface SendOptions {
  method: 'GET' | 'POST';
  body?: Buffer;
  /** Aborts the request (and the response stream, later) — tied to the client's connection. */
  signal: AbortSignal;
  /** No response headers within this long counts as a failed attempt. */
  headersTimeoutMs: number;
}

/** Sends one request upstream and resolves with the response once its headers arrive. */
export function send(target: UpstreamTarget, options: SendOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { url } = target;
    const lib = url.protocol === 'https:' ? https : http;
    const headers = options.body ? { ...target.headers, 'content-length': options.body.length } : target.headers;
    const req = lib.request(url, { method: options.method, headers, agent: agents[url.protocol as 'http:' | 'https:'] });
    // A plain listener rather than `signal`: the same abort, without AbortSignal's per-request cost.
    const abort = () => req.destroy(Object.assign(new Error('the client went away'), { name: 'AbortError' }));
    if (options.signal.aborted) abort();
    else options.signal.addEventListener('abort', abort, { once: true });
    req.once('close', () => options.signal.removeEventListener('abort', abort));
    const timer = setTimeout(() => {
      req.destroy(new UpstreamError('timeout', `no response headers from ${url.host} within ${options.headersTimeoutMs} ms`));
    }, options.headersTimeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err instanceof UpstreamError || err.name === 'AbortError') reject(err);
      else reject(new UpstreamError('connection', `${url.host}: ${err.code ?? err.message}`));
    });
    req.end(options.body);
  });
}

/**
 * Reads a small response body (error JSON, a compaction) in full, up to `limit` bytes. With `idleMs`, an
 * upstream that stops sending for that long is cut: what arrived is returned (`res.complete` stays false).
 */
export async function readSmall(res: IncomingMessage, limit = 64 * 1024, idleMs?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const idle = () => {
    clearTimeout(timer);
    if (idleMs) timer = setTimeout(() => res.destroy(new UpstreamError('timeout', `no data for ${idleMs} ms`)), idleMs);
  };
  try {
    idle();
    for await (const chunk of res as AsyncIterable<Buffer>) {
      idle();
      size += chunk.length;
      if (size > limit) break;
      chunks.push(chunk);
    }
  } catch {
    // A body cut short still tells what it managed to say.
  } finally {
    clearTimeout(timer);
  }
  res.destroy();
  return Buffer.concat(chunks);
}

import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Clock } from '../state/clock.js';
import type { EventBus } from '../state/events.js';
import type { UpstreamNet } from '../state/net/upstream-net.js';
import type { AccountRecord } from '../state/schema.js';
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
    /** The proxy the request went through (password masked). */
    readonly proxy?: string,
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

/**
 * Sends an account's requests the way that account reaches its upstream:
 * directly, or through its proxy (see UpstreamNet). A proxy that cannot be
 * reached, refuses the tunnel or wants credentials is a connection failure,
 * which moves the request to the next account, and an event `aigate serve` logs.
 */
export class Upstream {
  constructor(
    private readonly net: UpstreamNet,
    private readonly bus: EventBus,
    private readonly clock: Clock,
  ) {}

  async send(account: AccountRecord, target: UpstreamTarget, options: SendOptions): Promise<IncomingMessage> {
    let route;
    try {
      route = await this.net.route(target.url, account);
    } catch (err) {
      // A proxy named in a form AI Gate cannot use (say HTTPS_PROXY=socks4://…): said once per request, as a proxy failure.
      const failure = new UpstreamError('connection', `${target.url.host}: ${(err as Error).message}`, 'the configured proxy');
      this.bus.emit('proxy-error', { at: this.clock.now(), account: account.name, proxy: failure.proxy!, message: failure.message });
      throw failure;
    }
    if (!route.agent) return send(target, options);
    try {
      return await send({ ...target, agent: route.agent, proxy: route.proxy }, options);
    } catch (err) {
      if (err instanceof UpstreamError) this.bus.emit('proxy-error', { at: this.clock.now(), account: account.name, proxy: route.proxy!, message: err.message });
      throw err;
    }
  }
}

/** Sends one request upstream and resolves with the response once its headers arrive. */
export function send(target: UpstreamTarget, options: SendOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { url } = target;
    const lib = url.protocol === 'https:' ? https : http;
    const headers = options.body ? { ...target.headers, 'content-length': options.body.length } : target.headers;
    const req = lib.request(url, { method: options.method, headers, agent: target.agent ?? agents[url.protocol as 'http:' | 'https:'] });
    const where = target.proxy ? `${url.host} through proxy ${target.proxy}` : url.host;
    // An HTTP proxy's refusal of the tunnel would otherwise reach the client as if the upstream had said it.
    if (target.proxy) req.once('proxyConnect', (answer: { statusCode?: number }) => answer.statusCode && answer.statusCode !== 200 && req.destroy(proxyRefusal(where, answer.statusCode, target.proxy!)));
    // A plain listener rather than `signal`: the same abort, without AbortSignal's per-request cost.
    const abort = () => req.destroy(Object.assign(new Error('the client went away'), { name: 'AbortError' }));
    if (options.signal.aborted) abort();
    else options.signal.addEventListener('abort', abort, { once: true });
    req.once('close', () => options.signal.removeEventListener('abort', abort));
    const timer = setTimeout(() => {
      req.destroy(new UpstreamError('timeout', `no response headers from ${where} within ${options.headersTimeoutMs} ms`, target.proxy));
    }, options.headersTimeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      // A forwarding HTTP proxy (http:// upstreams) asks for credentials in the response itself.
      if (res.statusCode === 407 && target.proxy) {
        res.destroy();
        reject(proxyRefusal(where, 407, target.proxy));
      } else resolve(res);
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err instanceof UpstreamError || err.name === 'AbortError') reject(err);
      else reject(new UpstreamError('connection', `${where}: ${err.code ?? err.message}`, target.proxy));
    });
    req.end(options.body);
  });
}

function proxyRefusal(where: string, status: number, proxy: string): UpstreamError {
  // Proxies answer a missing or wrong password with 407, some (tinyproxy) a wrong one with 401.
  const why =
    status === 407 || status === 401
      ? proxy.includes('@')
        ? `the proxy refused its user name and password (HTTP ${status})`
        : `the proxy asks for credentials (HTTP ${status}): give them as user:password@ in the proxy URL`
      : `the proxy refused the connection (HTTP ${status})`;
  return new UpstreamError('connection', `${where}: ${why}`, proxy);
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

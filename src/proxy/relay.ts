import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { relayedHeaders } from './providers.js';
import { firstEvent, ResponseTap } from './sse-tap.js';

/** The first bytes of an SSE response, held back until its first event is complete. */
export interface Peek {
  chunks: Buffer[];
  event?: Record<string, unknown>;
  /** The upstream ended or broke before a first event was complete. */
  ended: boolean;
}

const PEEK_LIMIT = 256 * 1024;

export const isEventStream = (res: IncomingMessage) => /^text\/event-stream/i.test(res.headers['content-type'] ?? '');

/**
 * Reads an SSE response until its first event is complete, without letting
 * anything reach the client: a stream that opens with `response.failed` can
 * still go to another account.
 */
export function peekFirstEvent(up: IncomingMessage, timeoutMs: number): Promise<Peek> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (ended: boolean, event?: Record<string, unknown>) => {
      clearTimeout(timer);
      up.off('data', onData).off('end', onEnd).off('error', onEnd);
      up.pause();
      resolve({ chunks, event, ended });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const buffered = chunks.length === 1 ? chunk : Buffer.concat(chunks, size);
      const first = firstEvent(buffered);
      if (first.complete || size > PEEK_LIMIT) done(false, first.event);
    };
    const onEnd = () => done(true);
    const timer = setTimeout(() => done(true), timeoutMs);
    up.on('data', onData).once('end', onEnd).once('error', onEnd);
  });
}

export interface RelayOutcome {
  /** The upstream response arrived whole (its last chunk was received). */
  complete: boolean;
  /** The client went away before the end. */
  clientGone: boolean;
  tap: ResponseTap;
  ttfb: number;
}

/**
 * Relays an upstream response to the client as it arrives: status and headers
 * as-is, then the body through `pipe` (backpressure both ways). The tap sees
 * every chunk and alters none. A broken upstream ends the client's response
 * without a terminal event, which Codex answers by re-sending the turn.
 */
export function relay(up: IncomingMessage, res: ServerResponse, held: Buffer[], started: number): Promise<RelayOutcome> {
  const tap = new ResponseTap();
  res.writeHead(up.statusCode ?? 502, relayedHeaders(up.headers));
  for (const chunk of held) {
    tap.push(chunk);
    res.write(chunk);
  }
  const ttfb = performance.now() - started;
  return new Promise((resolve) => {
    const finish = () => {
      const complete = up.complete && !up.errored;
      if (!res.writableEnded && !res.destroyed) {
        if (complete) up.unpipe(res);
        res.end();
      }
      resolve({ complete, clientGone: !res.writableFinished && res.destroyed, tap, ttfb });
    };
    // A response that fit in the peeked chunks has ended and closed already (its 'close' fired while
    // peekFirstEvent held it paused): waiting for 'close' would never end the relay.
    if (up.closed) return finish();
    up.on('data', tap.push);
    up.on('error', () => undefined); // reported through `complete` above
    up.once('close', finish);
    up.pipe(res, { end: true });
    up.resume();
  });
}

/** Relays a small upstream answer that was read in full (an error kept while other accounts were tried). */
export function writeBuffered(res: ServerResponse, response: { status: number; headers: IncomingHttpHeaders; body: Buffer }): void {
  const headers = relayedHeaders(response.headers);
  headers['content-length'] = response.body.length;
  res.writeHead(response.status, headers);
  res.end(response.body);
}

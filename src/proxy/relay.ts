import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { relayedHeaders } from './providers.js';
import { FailedMarker } from './failed-marker.js';
import { failedError, firstEvent, ResponseTap } from './sse-tap.js';
import { relayed } from './young-generation.js';

/** The first bytes of an SSE response, held back until its first event is complete. */
export interface Peek {
  chunks: Buffer[];
  /** The first event, when it is (or mentions) a `response.failed`. */
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
      const first = firstEvent(buffered, 'response.failed');
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
  /** The stream's last event was a `response.failed` that `withhold` kept from the client. */
  withheld?: Record<string, unknown>;
}

/**
 * Relays an upstream response to the client as it arrives: status and headers
 * as-is, then the body chunk by chunk, pausing the upstream while the client
 * is slow (backpressure both ways). The tap sees every chunk and alters none.
 * A broken upstream ends the client's response without a terminal event, which
 * Codex answers by re-sending the turn.
 *
 * With `withhold`, an event that may be a terminal `response.failed` is held
 * back until the stream shows what it is: when it ends the stream and
 * `withhold(error)` says the error is the account's trouble (overloaded, out of
 * quota), it is never written, so Codex sees a cut stream and re-sends the
 * turn — which goes to another account — instead of giving up ("Selected model
 * is at capacity"). Anything else is let through as soon as the next event begins.
 */
export function relay(up: IncomingMessage, res: ServerResponse, held: Buffer[], started: number, withhold?: (error: Record<string, unknown>) => boolean): Promise<RelayOutcome> {
  const tap = new ResponseTap();
  res.writeHead(up.statusCode ?? 502, relayedHeaders(up.headers));
  const marker = withhold ? new FailedMarker() : undefined;
  /** The event held back (as it came, chunk by chunk), whether it has ended, whether it ends in `\n`. */
  let hold: Buffer[] | undefined;
  let holdEnded = false;
  let holdEndsNl = false;
  const write = (chunk: Buffer) => {
    if (chunk.length && !res.write(chunk)) up.pause();
  };
  const release = () => {
    for (const c of hold!) write(c);
    hold = undefined;
  };
  const consume = (chunk: Buffer): void => {
    relayed(chunk.length);
    tap.push(chunk);
    if (!marker) return write(chunk);
    for (let rest = chunk; rest.length; ) {
      if (hold) {
        // Bytes after the held event's end begin another event: the held one was not the last.
        if (holdEnded) {
          release();
          marker.atEventStart();
          continue;
        }
        const boundary = rest.indexOf('\n\n');
        const end = holdEndsNl && rest[0] === 0x0a ? 1 : boundary >= 0 ? boundary + 2 : -1;
        if (end < 0) {
          hold.push(rest);
          holdEndsNl = rest[rest.length - 1] === 0x0a;
          return;
        }
        hold.push(rest.subarray(0, end));
        holdEnded = true;
        rest = rest.subarray(end);
        continue;
      }
      const at = marker.find(rest);
      if (at < 0) return write(rest);
      // The bytes before the name go out: without the rest of the event they are nothing Codex reads.
      write(rest.subarray(0, at));
      hold = [];
      holdEnded = holdEndsNl = false;
      rest = rest.subarray(at);
    }
  };
  for (const chunk of held) consume(chunk);
  const ttfb = performance.now() - started;
  return new Promise((resolve) => {
    const finish = () => {
      res.off('drain', resume);
      const complete = up.complete && !up.errored;
      let withheld: Record<string, unknown> | undefined;
      if (hold) {
        const last = tap.result();
        const error = last.lastType === 'response.failed' ? failedError(last.lastEvent) : undefined;
        if (complete && error && withhold!(error)) withheld = error;
        else release();
      }
      // Ended without a terminal event (a withheld failure, a broken upstream): Codex re-sends the turn.
      if (!res.writableEnded && !res.destroyed) res.end();
      resolve({ complete, clientGone: !res.writableFinished && res.destroyed, tap, ttfb, withheld });
    };
    const resume = () => up.resume();
    // A response that fit in the peeked chunks has ended and closed already (its 'close' fired while
    // peekFirstEvent held it paused): waiting for 'close' would never end the relay.
    if (up.closed) return finish();
    res.on('drain', resume);
    up.on('data', consume);
    up.on('error', () => undefined); // reported through `complete` above
    up.once('close', finish);
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

import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';
import type { EventBus, GatewayEvents } from '../state/events.js';

/** Bus events forwarded to the popovers. `request` carries the stats record (counts and timings, no text). */
const FORWARDED = ['failover', 'account-state', 'exhausted', 'accounts-changed', 'request', 'token-refresh'] as const satisfies readonly (keyof GatewayEvents)[];

/**
 * `GET /aigate/api/events`: a Server-Sent Events stream of what the tray and
 * popovers react to, with a comment every 15 s so idle proxies and the browser
 * keep it open. Each stream ends when its client leaves or the gateway stops.
 */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  private readonly unsubscribe: () => void;

  constructor(
    bus: EventBus,
    private readonly heartbeatMs = 15_000,
  ) {
    // One listener per event for all clients, so many open popovers never trip the emitter's leak warning.
    // With no popover open (the usual case for `aigate serve`), every request's record is not even serialized.
    const offs = FORWARDED.map((name) => {
      const listener = (payload?: unknown) => this.open.size && this.broadcast(`event: ${name}\ndata: ${JSON.stringify(payload ?? {})}\n\n`);
      bus.on(name, listener as never);
      return () => bus.off(name, listener as never);
    });
    this.unsubscribe = () => offs.forEach((off) => off());
  }

  readonly handle = (ctx: Context): void => {
    ctx.respond = false;
    const res = ctx.res;
    res.writeHead(200, {
      ...(ctx.response.headers as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write(': aigate events\n\n');
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.heartbeatMs);
    heartbeat.unref();
    this.open.add(res);
    res.once('close', () => {
      clearInterval(heartbeat);
      this.open.delete(res);
    });
  };

  private broadcast(text: string): void {
    for (const res of this.open) res.write(text);
  }

  get size(): number {
    return this.open.size;
  }

  /** Ends every stream, so stopping the gateway does not wait for browsers to hang up. */
  close(): void {
    this.unsubscribe();
    for (const res of this.open) res.end();
  }
}

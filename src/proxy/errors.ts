import type { Context, Next } from 'koa';
import { debuglog } from 'node:util';

const log = debuglog('aigate:proxy');

/** An error with the HTTP status and OpenAI error shape it answers with. `expose` means the message is safe to show. */
export class GatewayError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function errorBody(message: string, type: string, code?: string, extra: Record<string, unknown> = {}) {
  return { error: { message, type, code: code ?? null, ...extra } };
}

/** The one place errors become responses: OpenAI-shaped JSON before headers are sent, a log line after. */
export async function handleErrors(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    const e = err as Partial<GatewayError> & Error;
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' && !ctx.req.complete) {
      // The client went away while sending its request: nobody to answer, and not AI Gate's fault.
      log('client aborted %s %s', ctx.method, ctx.path);
      ctx.res.destroy();
      return;
    }
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
    const message = e.expose ? e.message : 'AI Gate hit an internal error; see `aigate serve` output';
    if (status >= 500 && !e.expose) console.error('aigate: internal error:', e.stack ?? e);
    else log('%d %s', status, message);
    if (ctx.res.headersSent) {
      ctx.res.destroy();
      return;
    }
    ctx.respond = true;
    ctx.status = status;
    ctx.set('cache-control', 'no-store');
    ctx.body = errorBody(message, e.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error'), e.code, e.extra);
  }
}

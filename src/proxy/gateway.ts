import http from 'node:http';
import type { Duplex } from 'node:stream';
import Koa, { type Context, type Middleware } from 'koa';
import { requireAccount } from '../state/accounts.js';
import { errorBody, GatewayError, handleErrors } from './errors.js';
import type { GatewayDeps } from './deps.js';
import { forward } from './failover.js';
import { checkLoopback, type ListenAddress } from './listen-address.js';
import type { Route } from './providers.js';
import { parseResponsesBody } from './request-body.js';
import { serveModels } from './models.js';

/** `/ai-router/api[/accounts/<name>][/v1]/(responses|responses/compact|models)` */
const CODEX_ROUTE = /^\/ai-router\/api(?:\/accounts\/([^/]+))?(?:\/v1)?\/(responses\/compact|responses|models)\/?$/;
const DRAIN_MS = 5_000;
const LOOPBACK_HOST = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d{1,5})?$/i;

export interface Gateway {
  server: http.Server;
  url: string;
  /** Stops accepting, lets in-flight streams finish for up to `drainMs`, then cuts what is left. */
  close(drainMs?: number): Promise<void>;
}

/** The Codex-facing routes. Everything else falls through to the admin API and popovers (if mounted). */
export function codexRoutes(deps: GatewayDeps, handlers: Set<Promise<unknown>>): Middleware {
  return async (ctx: Context, next) => {
    const match = CODEX_ROUTE.exec(ctx.path);
    if (!match) return next();
    const handling = handle(ctx, match, deps);
    handlers.add(handling);
    try {
      await handling;
    } finally {
      handlers.delete(handling);
    }
  };
}

async function handle(ctx: Context, match: RegExpExecArray, deps: GatewayDeps): Promise<void> {
  {
    if (!LOOPBACK_HOST.test(ctx.get('host'))) {
      // Against DNS rebinding: a page on another name that resolves to 127.0.0.1 must not read /models.
      throw new GatewayError(403, 'requests must be addressed to 127.0.0.1, localhost or [::1]', 'invalid_request_error', 'forbidden_host');
    }
    if (ctx.get('origin')) {
      throw new GatewayError(403, 'requests from web pages are refused: AI Gate serves Codex, which sends no Origin header', 'invalid_request_error', 'forbidden_origin');
    }
    const route = match[2] as Route;
    const pinnedName = match[1] ? decodeName(match[1]) : undefined;
    const pinned = pinnedName === undefined ? undefined : requireAccount(deps.store.data, pinnedName);
    const method = route === 'models' ? 'GET' : 'POST';
    if (ctx.method !== method) {
      ctx.set('allow', method);
      throw new GatewayError(405, `${ctx.path} takes ${method}`, 'invalid_request_error', 'method_not_allowed');
    }
    const query = ctx.querystring ? `?${ctx.querystring}` : '';
    ctx.respond = false;
    if (route === 'models') return serveModels(ctx.req, ctx.res, deps, { query, pinned });
    const body = await parseResponsesBody(ctx.req);
    await forward(ctx.req, ctx.res, deps, { route, method, query, body, pinned });
  }
}

export async function startGateway(deps: GatewayDeps, address: ListenAddress, extra: Middleware[] = []): Promise<Gateway> {
  checkLoopback(address.host);
  const app = new Koa();
  app.silent = true;
  app.use(handleErrors);
  // Handlers still running (a relay finishing its bookkeeping); close() waits for them.
  const handlers = new Set<Promise<unknown>>();
  app.use(codexRoutes(deps, handlers));
  for (const mw of extra) app.use(mw);
  app.use((ctx) => {
    ctx.status = 404;
    ctx.body = errorBody(`no route ${ctx.method} ${ctx.path}; Codex's base_url is http://${address.host}:${address.port}/ai-router/api`, 'invalid_request_error', 'not_found');
  });

  const server = http.createServer(app.callback());
  const inflight = new Set<http.ServerResponse>();
  let draining = false;
  server.on('request', (_req, res: http.ServerResponse) => {
    inflight.add(res);
    res.once('close', () => {
      inflight.delete(res);
      if (draining) server.closeIdleConnections();
    });
  });
  // Codex's built-in provider tries a WebSocket first; 426 makes it fall back to HTTP within the same turn.
  server.on('upgrade', refuseUpgrade);
  server.headersTimeout = 30_000;
  // Receiving the request (headers and body) must finish within this; the response stream is not bound by
  // it (Node's requestTimeout covers the request only), so a slow-body client cannot hold a socket forever.
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new GatewayError(409, `${address.host}:${address.port} is already in use — is AI Gate (the tray app or \`aigate serve\`) already running? Stop it, or pick another port with --listen`, 'server_error', 'address_in_use')
          : err,
      );
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: async (drainMs = DRAIN_MS) => {
      draining = true;
      await drain(server, drainMs);
      await Promise.allSettled([...handlers]);
    },
  };
}

/** A pinned account name from the path; malformed percent-encoding is the client's mistake, not a 500. */
function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new GatewayError(400, `the account name in the path is not valid percent-encoding: "${raw.slice(0, 80)}"`, 'invalid_request_error', 'invalid_path');
  }
}

function refuseUpgrade(_req: http.IncomingMessage, socket: Duplex): void {
  const body = JSON.stringify(errorBody('AI Gate speaks HTTP streaming only; WebSocket is not supported', 'invalid_request_error', 'websocket_unsupported'));
  socket.end(
    `HTTP/1.1 426 Upgrade Required\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function drain(server: http.Server, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), drainMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

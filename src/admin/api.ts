import path from 'node:path';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { AdminAuth, guardAdmin, loadAdminToken, ownOrigin } from './auth.js';
import { configRoutes } from './config-routes.js';
import { coreRoutes } from './core-routes.js';
import { EventStreams } from './events.js';
import { loginRoutes } from './login-routes.js';
import { adminPages, packageRoot } from './pages.js';
import type { AdminRoutes } from './routes.js';
import { statsRoutes } from './stats-routes.js';
import { GatewayError } from '../proxy/errors.js';
import type { AdminHost } from './routes.js';

/** Every route group under `/aigate/api`; each part of AI Gate owns one. */
export const adminRouteGroups: AdminRoutes[] = [coreRoutes, statsRoutes, configRoutes, loginRoutes];

export interface AdminOptions {
  /** Where the built popovers are (app.js, app.css, index.html). @default <package>/dist/windows */
  windowsDir?: string;
  /** @default 15000 */
  heartbeatMs?: number;
}

export interface AdminApi {
  middleware: Middleware;
  /** A one-time sign-in link (two minutes, single use), e.g. for the tray's popover window. */
  loginUrl(origin?: string): string;
  events: EventStreams;
  /** Every route mounted, e.g. `GET /aigate/api/status` (the security tests walk them all). */
  routes: { method: string; path: string }[];
  /** Ends the event streams; the gateway's own close does the rest. */
  close(): void;
}

const UNAUTHORIZED =
  'the AI Gate admin API needs `Authorization: Bearer <the token in $AIGATE_HOME/data/admin-token>` or a browser session from `aigate open`';

/**
 * The admin API and the popovers' pages, mounted after the Codex routes.
 * Order: Host and Origin checks for everything under `/aigate`, then
 * authentication for `/aigate/api`, then the route groups. Registrars run once
 * here, before the gateway listens: `gw.gatewayUrl()` answers only inside handlers.
 */
export async function adminApi(gw: AdminHost, options: AdminOptions = {}): Promise<AdminApi> {
  const auth = new AdminAuth(await loadAdminToken(gw.paths), gw.clock);
  const events = new EventStreams(gw.bus, options.heartbeatMs);
  const pages = adminPages(auth, options.windowsDir ?? path.join(packageRoot(), 'dist/windows'));
  const loginUrl = (origin = gw.gatewayUrl()) => `${origin}/aigate/login?code=${auth.issueCode().code}`;

  const router = new Router({ prefix: '/aigate/api' });
  router.post('/login-links', (ctx) => {
    const { code, expiresAt } = auth.issueCode();
    ctx.status = 201;
    ctx.body = { url: `${ownOrigin(ctx)}/aigate/login?code=${code}`, expiresAt };
  });
  router.get('/events', events.handle);
  for (const register of adminRouteGroups) register(router, gw);
  const routes = router.routes();

  const notFound = async (ctx: Context) => {
    const allowed = [...new Set(router.match(ctx.path, ctx.method).path.flatMap((layer) => layer.methods))].filter((m) => m !== 'HEAD');
    if (allowed.length) {
      ctx.set('allow', allowed.join(', '));
      throw new GatewayError(405, `${ctx.path} takes ${allowed.join(' or ')}, not ${ctx.method}`, 'invalid_request_error', 'method_not_allowed');
    }
    throw new GatewayError(404, `no admin route ${ctx.method} ${ctx.path}`, 'invalid_request_error', 'not_found');
  };

  const middleware = async (ctx: Context, next: Next) => {
    if (ctx.path !== '/aigate' && !ctx.path.startsWith('/aigate/')) return next();
    await guardAdmin(ctx, async () => {
      if (ctx.path === '/aigate/api' || ctx.path.startsWith('/aigate/api/')) {
        if (!auth.allows(ctx)) {
          ctx.set('www-authenticate', 'Bearer realm="aigate"');
          throw new GatewayError(401, UNAUTHORIZED, 'invalid_request_error', 'unauthorized');
        }
        await routes(ctx as never, () => notFound(ctx));
        return;
      }
      if (!(await pages(ctx))) throw new GatewayError(404, `no AI Gate page ${ctx.path}; the pages are at /aigate/`, 'invalid_request_error', 'not_found');
    });
  };

  const list = router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) })));
  return { middleware, loginUrl, events, routes: list, close: () => events.close() };
}

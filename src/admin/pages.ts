import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import { readTextIfExists } from '../state/files.js';
import { SESSION_COOKIE, type AdminAuth } from './auth.js';

const ASSET = /^\/aigate\/([A-Za-z0-9_-][A-Za-z0-9_.-]*\.(?:js|css|svg|png|ico|woff2|map))$/;
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  map: 'application/json',
};

/** The package root: the nearest folder above this module with AI Gate's package.json (src/admin in dev, dist/cli bundled). */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      if (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'aigate') return dir;
    } catch {
      /* none here, or not ours: keep climbing */
    }
    if (path.dirname(dir) === dir) return from;
  }
}

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body style="font:15px system-ui;margin:3em auto;max-width:36em"><h1>${title}</h1>${body}</body></html>`;

const SIGN_IN = page('AI Gate', '<p>This page needs a sign-in link. Run <code>aigate open</code> in a terminal (or use the tray menu) to open it.</p>');
const BAD_CODE = page('AI Gate', '<p>This sign-in link was already used or has expired (links work once, for two minutes). Run <code>aigate open</code> again.</p>');
const NOT_BUILT = page('AI Gate', '<p>The AI Gate pages are not built. Run <code>npm run build</code> and reload.</p>');

function html(ctx: Context, status: number, text: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = text;
}

/**
 * The popovers' shell and assets under `/aigate/`. The shell needs a session
 * (or the Bearer token); the scripts and styles do not, as they hold nothing
 * but code. `/aigate/login?code=` turns a one-time code into the session cookie.
 */
export function adminPages(auth: AdminAuth, windowsDir: string) {
  return async (ctx: Context): Promise<boolean> => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return false;
    if (ctx.path === '/aigate/login') {
      const session = typeof ctx.query.code === 'string' ? auth.redeem(ctx.query.code) : undefined;
      if (!session) {
        html(ctx, 401, BAD_CODE);
        return true;
      }
      ctx.cookies.set(SESSION_COOKIE, session, { httpOnly: true, sameSite: 'strict', path: '/aigate', overwrite: true });
      ctx.status = 303;
      ctx.redirect('/aigate/');
      return true;
    }
    if (ctx.path === '/aigate' || ctx.path === '/aigate/' || ctx.path === '/aigate/index.html') {
      if (!auth.allows(ctx)) {
        html(ctx, 401, SIGN_IN);
        return true;
      }
      const shell = (await readTextIfExists(path.join(windowsDir, 'index.html'))) ?? (await readTextIfExists(path.join(packageRoot(), 'src/windows/index.html')));
      html(ctx, shell === undefined ? 503 : 200, shell ?? NOT_BUILT);
      return true;
    }
    const asset = ASSET.exec(ctx.path)?.[1];
    if (!asset) return false;
    const file = path.join(windowsDir, asset);
    const bytes = await fs.promises.readFile(file).catch(() => undefined);
    if (!bytes) return false;
    ctx.type = TYPES[asset.slice(asset.lastIndexOf('.') + 1)]!;
    ctx.body = bytes;
    return true;
  };
}

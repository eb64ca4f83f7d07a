import crypto from 'node:crypto';
import { z } from 'zod';
import { checkName, upsertOfficial } from '../state/accounts.js';
import { authIssuer, callbackPorts, startLogin, type PendingLogin } from '../state/auth/oauth.js';
import { accountView } from './core-routes.js';
import { readJson } from './input.js';
import type { AdminRoutes } from './routes.js';
import { GatewayError } from '../proxy/errors.js';

interface LoginJob {
  id: string;
  state: 'pending' | 'done' | 'error';
  login: PendingLogin;
  account?: ReturnType<typeof accountView>;
  error?: string;
}

const StartLogin = z.strictObject({ name: z.string().min(1).optional() });
const KEPT_JOBS = 10;

/**
 * In-app "Sign in with ChatGPT" for the Accounts popover: `POST accounts/login`
 * starts a PKCE sign-in in the gateway process and answers the URL to open;
 * `GET accounts/login/:id` tells how it went. One browser sign-in runs at a
 * time (they share the callback port); a new one cancels the one pending.
 */
export const loginRoutes: AdminRoutes = (router, gw) => {
  const jobs = new Map<string, LoginJob>();

  router.post('/accounts/login', async (ctx) => {
    const { name } = await readJson(ctx, StartLogin);
    if (name !== undefined) checkName(name);
    for (const job of jobs.values()) if (job.state === 'pending') job.login.cancel('replaced by a newer sign-in');
    const issuer = authIssuer(gw.env);
    const login = await startLogin({ issuer, ports: callbackPorts(gw.env), keepAlive: false, via: await gw.net.via(`${issuer}/oauth/token`) });
    const job: LoginJob = { id: crypto.randomBytes(12).toString('base64url'), state: 'pending', login };
    jobs.set(job.id, job);
    for (const old of [...jobs.keys()].slice(0, -KEPT_JOBS)) jobs.delete(old);
    login.done
      .then(async (tokens) => {
        const { account } = await upsertOfficial(gw.store, gw.vault, tokens, name);
        Object.assign(job, { state: 'done', account: accountView(account, gw.store.data, gw.clock.now()) });
        gw.bus.emit('accounts-changed');
      })
      .catch((err: Error) => Object.assign(job, { state: 'error', error: err.message }));
    ctx.status = 201;
    ctx.body = { id: job.id, url: login.url };
  });

  router.get('/accounts/login/:id', (ctx) => {
    const job = jobs.get(ctx.params.id ?? '');
    if (!job) throw new GatewayError(404, 'no such sign-in; start one with POST /aigate/api/accounts/login', 'invalid_request_error', 'not_found');
    ctx.body = { state: job.state, ...(job.account && { account: job.account }), ...(job.error && { error: job.error }) };
  });

  router.delete('/accounts/login/:id', (ctx) => {
    const job = jobs.get(ctx.params.id ?? '');
    if (job?.state === 'pending') job.login.cancel();
    ctx.status = 204;
  });
};

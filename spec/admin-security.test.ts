import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { addOfficial, addProvider, adminRequest, adminToken, codexAuthJson, startGateway, tempHome, type AdminResponse } from './_helpers.js';
import { startMockUpstream } from './mock-upstream.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

describe('admin API security', async () => {
  const home = await tempHome();
  const upstream = await startMockUpstream({ tag: 'A' });
  after(() => upstream.close());
  const gw = await startGateway(home);
  const apiKey = 'sk-third-party-SECRET-4c1d2e3f4a5b';
  await addProvider(gw, 'alpha', `${upstream.url}/v1`, apiKey);
  const { tokens } = await addOfficial(gw, 'work', { accountId: 'acct-sec', email: 'sec@example.com' });
  const authFile = path.join(home.paths.codexHome, 'auth.json');
  await fs.writeFile(authFile, codexAuthJson(tokens), { mode: 0o600 });
  const token = await adminToken(gw);
  const port = new URL(gw.gateway.url).port;

  const seen: AdminResponse[] = [];
  const request = async (...args: Parameters<typeof adminRequest>) => {
    const res = await adminRequest(...args);
    seen.push(res);
    return res;
  };
  /** Every mounted route, with its parameters filled in. */
  const routes = gw.admin.routes.map((r) => ({ method: r.method, path: r.path.replace(/:name\b/g, 'alpha').replace(/:(\w+)/g, 'x') }));

  it('knows the routes of every group', () => {
    const paths = new Set(routes.map((r) => `${r.method} ${r.path}`));
    for (const expected of ['GET /aigate/api/status', 'POST /aigate/api/accounts', 'DELETE /aigate/api/accounts/alpha', 'PATCH /aigate/api/settings', 'GET /aigate/api/stats', 'GET /aigate/api/events', 'POST /aigate/api/login-links']) {
      assert.ok(paths.has(expected), `${expected} is mounted`);
    }
    assert.ok(routes.length >= 18, `${routes.length} routes`);
  });

  it('answers 401 on every admin route without a token, and with a wrong one', async () => {
    for (const route of [...routes, { method: 'GET', path: '/aigate/api/no-such-route' }]) {
      for (const wrong of [null, 'not-the-token']) {
        const res = await request(gw, route.method, route.path, { token: wrong, body: STATE_CHANGING.has(route.method) ? {} : undefined });
        assert.equal(res.status, 401, `${route.method} ${route.path} with ${wrong}`);
        assert.equal(res.json?.error?.code, 'unauthorized');
        assert.match(res.json.error.message, /admin-token|aigate open/);
      }
    }
  });

  it('answers 403 to a Host that is not this gateway on loopback (DNS rebinding), before anything else', async () => {
    const hosts = [`evil.example:${port}`, `127.0.0.1.evil.example:${port}`, '127.0.0.1:1', `localhost`, `127.0.0.2:${port}`];
    for (const route of [...routes, { method: 'GET', path: '/aigate/' }, { method: 'GET', path: '/aigate/app.js' }, { method: 'GET', path: '/aigate/login?code=x' }]) {
      for (const host of hosts) {
        const res = await request(gw, route.method, route.path, { headers: { host }, body: STATE_CHANGING.has(route.method) ? {} : undefined });
        assert.equal(res.status, 403, `${route.method} ${route.path} Host ${host}`);
        assert.equal(res.json?.error?.code, 'forbidden_host');
      }
    }
    const localhost = await request(gw, 'GET', '/aigate/api/status', { headers: { host: `localhost:${port}` } });
    assert.equal(localhost.status, 200);
  });

  it('refuses a state-changing request from a foreign Origin, and changes nothing', async () => {
    const changing = routes.filter((r) => STATE_CHANGING.has(r.method));
    assert.ok(changing.length >= 10);
    for (const route of changing) {
      for (const headers of <Record<string, string>[]>[{ origin: 'https://evil.example' }, { origin: 'null' }, { origin: `http://localhost:${port}` }, { 'sec-fetch-site': 'cross-site' }]) {
        const res = await request(gw, route.method, route.path, { headers, body: {} });
        assert.equal(res.status, 403, `${route.method} ${route.path} ${JSON.stringify(headers)}`);
        assert.equal(res.json?.error?.code, 'forbidden_origin');
      }
    }
    assert.deepEqual(gw.store.data.accounts.map((a) => a.name), ['alpha', 'work']);
    assert.equal(gw.store.data.accounts.every((a) => a.enabled), true);
    const own = await request(gw, 'POST', '/aigate/api/accounts/alpha/use', { headers: { origin: gw.gateway.url } });
    assert.equal(own.status, 200, 'the gateway\'s own pages may');
  });

  it('sends no CORS header, not even to a preflight', async () => {
    const preflight = await request(gw, 'OPTIONS', '/aigate/api/accounts', {
      token: null,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.notEqual(preflight.status, 204);
    await request(gw, 'GET', '/aigate/api/status', { headers: { origin: 'https://evil.example' } });
    await request(gw, 'POST', '/ai-router/api/responses', { token: null, headers: { origin: 'https://evil.example' }, body: {} });
    assert.ok(seen.length > 100);
    for (const res of seen) {
      const cors = Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));
      assert.deepEqual(cors, [], `no CORS headers (status ${res.status})`);
    }
  });

  it('never returns a stored secret, sealed or not', async () => {
    const vaultKey = await fs.readFile(path.join(home.paths.data, 'secret.key')).then((b) => b.toString('base64'), () => 'no-key-file');
    const sealed = gw.store.data.accounts.map((a) => a.secret);
    const secrets = [apiKey, tokens.accessToken, tokens.refreshToken, tokens.idToken, token, vaultKey, ...sealed];
    const bodies: string[] = [];
    for (const route of routes.filter((r) => r.method === 'GET' && !r.path.endsWith('/events'))) {
      bodies.push((await request(gw, 'GET', route.path)).text);
    }
    // Answers that echo input: adding, importing, failing to add.
    bodies.push((await request(gw, 'POST', '/aigate/api/accounts', { body: { name: 'gamma', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-gamma-SECRET-99887766' } })).text);
    bodies.push((await request(gw, 'POST', '/aigate/api/accounts', { body: { name: 'gamma', baseUrl: `${upstream.url}/v1`, apiKey: apiKey } })).text);
    bodies.push((await request(gw, 'POST', '/aigate/api/accounts', { body: `{"name":"delta","apiKey":"${apiKey}"` })).text);
    bodies.push((await request(gw, 'POST', '/aigate/api/accounts/import', { body: { authFile } })).text);
    bodies.push((await request(gw, 'POST', '/aigate/api/login-links')).text);
    // Proxy passwords: set, echoed back, refused in a bad URL, and read again.
    const proxyPass = 'proxy-SECRET-5e6f7a8b';
    bodies.push((await request(gw, 'PATCH', '/aigate/api/settings', { body: { upstreamProxy: `http://px:${proxyPass}@127.0.0.1:3128` } })).text);
    bodies.push((await request(gw, 'PATCH', '/aigate/api/settings', { body: { upstreamProxy: `http://px:${proxyPass}@127.0.0.1:3128/bad-path` } })).text);
    bodies.push((await request(gw, 'PATCH', `/aigate/api/accounts/${gw.store.data.accounts[0]!.name}`, { body: { upstreamProxy: `socks5h://px:${proxyPass}@127.0.0.1:1080` } })).text);
    bodies.push((await request(gw, 'GET', '/aigate/api/settings')).text, (await request(gw, 'GET', '/aigate/api/status')).text);
    bodies.push((await request(gw, 'GET', '/aigate/api/accounts')).text);
    assert.match(bodies.at(-1)!, /socks5h:\/\/px:\*\*\*@127\.0\.0\.1:1080/);
    secrets.push(proxyPass, ...gw.store.data.accounts.flatMap((a) => (typeof a.upstreamProxy === 'object' && a.upstreamProxy.sealed ? [a.upstreamProxy.sealed] : [])));
    secrets.push('sk-gamma-SECRET-99887766', ...gw.store.data.accounts.map((a) => a.secret));
    bodies.push(await firstEventChunk());
    for (const secret of secrets) {
      for (const body of bodies) assert.ok(!body.includes(secret), `a response holds a secret: ${body.slice(0, 200)}`);
    }
    assert.match(bodies.find((b) => b.includes('"kind":"official"'))!, /"secret":"set"/);
  });

  it('gives the browser a session id, never the admin token, and each code works once', async () => {
    const link = new URL((await request(gw, 'POST', '/aigate/api/login-links')).json.url);
    const first = await request(gw, 'GET', link.pathname + link.search, { token: null });
    assert.equal(first.status, 303);
    const cookie = String(first.headers['set-cookie']);
    assert.ok(!cookie.includes(token));
    assert.match(cookie, /httponly/i);
    assert.match(cookie, /samesite=strict/i);
    assert.equal((await request(gw, 'GET', link.pathname + link.search, { token: null })).status, 401);
    assert.equal((await request(gw, 'GET', '/aigate/login', { token: null })).status, 401);
  });

  /** The opening of the event stream (the rest waits for events). */
  function firstEventChunk(): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.get(`${gw.gateway.url}/aigate/api/events`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
        assert.deepEqual(Object.keys(res.headers).filter((h) => h.startsWith('access-control-')), []);
        res.once('data', (d) => {
          resolve(String(d));
          req.destroy();
        });
      });
      req.on('error', reject);
    });
  }
});

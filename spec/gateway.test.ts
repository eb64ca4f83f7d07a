import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { addOfficial, addProvider, codexAuthJson, filesContaining, officialTokens, parseSse, postResponses, ROOT, runCli, startGateway, tempHome, turn } from './_helpers.js';
import { sseEvent, startMockUpstream, usage } from './mock-upstream.js';

/** A request with headers fetch() will not let a test set (Host). */
function rawRequest(base: string, route: string, method: string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${route}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode })));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('gateway relay', async () => {
  const home = await tempHome();
  const upstream = await startMockUpstream({ tag: 'A', rateLimits: { primaryUsed: 42, secondaryUsed: 81 } });
  after(() => upstream.close());
  const gw = await startGateway(home);
  await addProvider(gw, 'alpha', `${upstream.url}/v1`, 'sk-alpha-key-xyz');

  it('relays a long SSE stream byte for byte, in order, with every rate-limit header', async () => {
    const chunks = Array.from({ length: 2000 }, (_, i) => sseEvent('response.output_text.delta', { delta: `chunk ${i} ` + 'é'.repeat(i % 7) }));
    chunks.push(sseEvent('response.completed', { response: { id: 'resp_1', usage } }));
    const headers = {
      'content-type': 'text/event-stream',
      'x-codex-primary-used-percent': '42.5',
      'x-codex-primary-window-minutes': '300',
      'x-codex-primary-reset-at': '1790000000',
      'x-codex-secondary-used-percent': '81',
      'x-codex-secondary-window-minutes': '10080',
      'x-codex-secondary-reset-at': '1790500000',
      'x-codex-credits-has-credits': 'true',
      'x-codex-active-limit': 'codex',
      'x-request-id': 'req_abc',
    };
    upstream.plans.push({ kind: 'raw', headers, chunks });
    const res = await postResponses(gw.base, turn('hi'), { 'session-id': 's1', originator: 'codex_exec' });
    assert.equal(res.status, 200);
    assert.equal(res.text, chunks.join(''));
    for (const [name, value] of Object.entries(headers)) assert.equal(res.headers.get(name), value, name);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.path, '/v1/responses');
    assert.equal(seen.headers.authorization, 'Bearer sk-alpha-key-xyz');
    assert.equal(seen.headers['session-id'], 's1');
    assert.equal(seen.headers.originator, 'codex_exec');
  });

  it('relays a JSON answer byte for byte with its status', async () => {
    const body = JSON.stringify({ id: 'resp_json', output: [], usage, note: 'ünïcödé' }, null, 1);
    upstream.plans.push({ kind: 'raw', status: 201, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, chunks: [body] });
    const res = await postResponses(gw.base, turn('json'));
    assert.equal(res.status, 201);
    assert.equal(res.text, body);
  });

  it('forwards the request body byte for byte, zstd included, and replaces Codex credentials', async () => {
    const raw = JSON.stringify(turn('exact bytes', { prompt_cache_key: 'k1' })).replace('{', '{ ');
    await postResponses(gw.base, raw, { authorization: 'Bearer codex-own-token', 'chatgpt-account-id': 'codex-acct', 'x-codex-turn-metadata': '{"a":1}' });
    let seen = upstream.seen.at(-1)!;
    assert.equal(seen.raw.toString(), raw);
    assert.equal(seen.headers.authorization, 'Bearer sk-alpha-key-xyz');
    assert.equal(seen.headers['chatgpt-account-id'], undefined);
    assert.equal(seen.headers['x-codex-turn-metadata'], '{"a":1}');

    const zst = await fs.readFile(path.join(ROOT, 'spec/fixtures/body.json.zst'));
    const res = await fetch(`${gw.base}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'zstd' }, body: zst });
    await res.text();
    assert.equal(res.status, 200);
    seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['content-encoding'], 'zstd');
    assert.deepEqual(seen.raw, zst);
    assert.equal(seen.json.prompt_cache_key, 'zstd-thread');
  });

  it('serves the routes with and without /v1, compact included', async () => {
    for (const route of ['/responses', '/v1/responses', '/responses/compact', '/v1/responses/compact']) {
      const res = await fetch(`${gw.base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(turn('r')) });
      await res.text();
      assert.equal(res.status, 200, route);
      assert.match(upstream.seen.at(-1)!.path, new RegExp(`^/v1${route.replace('/v1', '')}$`));
    }
  });

  it('aborts the upstream request within 100 ms of the client going away', async () => {
    let closedAt = 0;
    const upstreamClosed = new Promise<void>((resolve) => upstream.plans.push({ kind: 'stall', onClose: () => ((closedAt = performance.now()), resolve()) }));
    const controller = new AbortController();
    const res = await fetch(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(turn('stall')), signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read(); // the first event arrived: the stream is live
    const abortedAt = performance.now();
    controller.abort();
    await upstreamClosed;
    assert.ok(closedAt - abortedAt < 100, `upstream closed ${closedAt - abortedAt} ms after the client left`);
  });

  it('answers a WebSocket upgrade with 426 so Codex falls back to HTTP', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gw.base}/responses`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
      req.on('response', (r) => resolve(r.statusCode!));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 426);
  });

  describe('refuses bad input and sends nothing upstream', () => {
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['a browser Origin', () => fetch(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: '{}' }), 403, 'forbidden_origin'],
      ['malformed JSON', () => fetch(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' }), 400, 'invalid_json'],
      ['a JSON array', () => fetch(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' }), 400, 'invalid_json'],
      ['a non-JSON content type', () => fetch(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }), 415, 'unsupported_media_type'],
      ['a corrupt zstd body', () => fetch(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'zstd' }, body: 'not zstd' }), 400, 'invalid_body'],
      ['a body over 64 MiB', () => fetch(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.alloc(64 * 1024 * 1024 + 1, 0x20) }), 413, 'request_too_large'],
      ['the wrong method', () => fetch(`${gw.base}/responses`), 405, 'method_not_allowed'],
      ['a foreign Host (DNS rebinding)', () => rawRequest(gw.base, '/models', 'GET', { host: 'evil.example:6789' }), 403, 'forbidden_host'],
      ['an unknown pinned account', () => fetch(`${gw.base}/accounts/nobody/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 404, ''],
    ];
    for (const [what, send, status, code] of cases) {
      it(what, async () => {
        const before = upstream.seen.length;
        const res = await send();
        const body = await res.json();
        assert.equal(res.status, status);
        assert.equal(typeof body.error.message, 'string');
        if (code) assert.equal(body.error.code, code);
        assert.equal(upstream.seen.length, before);
      });
    }
  });

  it('a body over 64 MiB without content-length is refused too', async () => {
    const before = upstream.seen.length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
      req.on('response', (r) => (r.resume(), resolve(r.statusCode!)));
      req.on('error', reject);
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      for (let i = 0; i < 65; i++) req.write(chunk);
      req.end();
    });
    assert.equal(status, 413);
    assert.equal(upstream.seen.length, before);
  });
});

describe('accounts and models', async () => {
  const home = await tempHome();
  const chatgpt = await startMockUpstream({ tag: 'C', models: { models: [{ slug: 'gpt-5.1-codex', display_name: 'GPT-5.1 Codex' }] } });
  const thirdParty = await startMockUpstream({ tag: 'T', models: { object: 'list', data: [{ id: 'some-model', object: 'model' }] } });
  after(() => Promise.all([chatgpt.close(), thirdParty.close()]));
  const gw = await startGateway(home, { env: { ...home.env, AIGATE_CHATGPT_BASE_URL: `${chatgpt.url}/backend-api/codex` } });

  it('answers 503 with what to run when there is no account', async () => {
    const res = await postResponses(gw.base, turn('hi'));
    assert.equal(res.status, 503);
    assert.match(JSON.parse(res.text).error.message, /aigate accounts (add|import)/);
  });

  it('sends official accounts to the ChatGPT backend with their token and account id', async () => {
    const { tokens } = await addOfficial(gw, 'work', { accountId: 'acct-123' });
    const res = await postResponses(gw.base, turn('hi'), { authorization: 'Bearer codex-token', 'chatgpt-account-id': 'codex-acct' });
    assert.equal(res.status, 200);
    const seen = chatgpt.seen.at(-1)!;
    assert.equal(seen.path, '/backend-api/codex/responses');
    assert.equal(seen.headers.authorization, `Bearer ${tokens.accessToken}`);
    assert.equal(seen.headers['chatgpt-account-id'], 'acct-123');
  });

  it('relays the official model list and keeps client_version', async () => {
    const res = await fetch(`${gw.base}/models?client_version=0.169.0`);
    assert.deepEqual(await res.json(), { models: [{ slug: 'gpt-5.1-codex', display_name: 'GPT-5.1 Codex' }] });
    assert.equal(chatgpt.seen.at(-1)!.path, '/backend-api/codex/models?client_version=0.169.0');
  });

  it('gives Codex an empty model list for a provider that answers another shape', async () => {
    await addProvider(gw, 'tp', `${thirdParty.url}/v1`);
    const res = await fetch(`${gw.base}/accounts/tp/v1/models?client_version=0.169.0`);
    assert.deepEqual(await res.json(), { models: [] });
    assert.equal(thirdParty.seen.at(-1)!.path, '/v1/models?client_version=0.169.0');
  });
});

describe('aigate CLI', async () => {
  it('refuses to listen beyond loopback', async () => {
    const home = await tempHome();
    for (const listen of ['0.0.0.0:6789', '192.168.1.5:80', '[::]:6789', 'example.com:80']) {
      const r = await runCli(['serve', '--listen', listen], home.env);
      assert.equal(r.code, 1, listen);
      assert.match(r.stderr, /loopback only/, listen);
    }
  });

  it('keeps no plaintext secret on disk after import and add', async () => {
    const home = await tempHome();
    const tokens = officialTokens({ accountId: 'acct-disk', email: 'disk@example.com' });
    await fs.writeFile(path.join(home.paths.codexHome, 'auth.json'), codexAuthJson(tokens), { mode: 0o600 });
    const imported = await runCli(['accounts', 'import'], home.env);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /disk@example.com/);
    const apiKey = 'sk-proj-plaintext-should-never-appear-0123456789';
    const added = await runCli(['accounts', 'add', 'prov', '--base-url', 'https://api.example.com/v1'], home.env, apiKey + '\n');
    assert.equal(added.code, 0, added.stderr);
    const listed = await runCli(['accounts', 'list', '--json'], home.env);
    const accounts = JSON.parse(listed.stdout);
    assert.deepEqual(accounts.map((a: { name: string; kind: string; active: boolean }) => [a.name, a.kind, a.active]), [['disk', 'official', true], ['prov', 'third-party', false]]);
    assert.equal(await filesContaining(home.paths.home, [apiKey, tokens.accessToken, tokens.refreshToken, tokens.idToken]).then((f) => f.length), 0);
    assert.ok(!listed.stdout.includes(apiKey) && !listed.stdout.includes(tokens.refreshToken));
    const stat = await fs.stat(path.join(home.paths.data, 'store.json'));
    assert.equal(stat.mode & 0o777, 0o600);
    assert.equal((await fs.stat(home.paths.data)).mode & 0o777, 0o700);
  });

  it('refuses an API key on the command line', async () => {
    const home = await tempHome();
    const r = await runCli(['accounts', 'add', 'p', '--base-url', 'https://x.example/v1', '--api-key', 'sk-visible'], home.env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /stdin/);
  });

  it('reports a damaged store with its path and leaves it as it is', async () => {
    const home = await tempHome();
    await fs.mkdir(home.paths.data, { recursive: true });
    const file = path.join(home.paths.data, 'store.json');
    await fs.writeFile(file, '{"version":1,"accounts":[');
    const r = await runCli(['accounts', 'list'], home.env);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(file), r.stderr);
    assert.equal(await fs.readFile(file, 'utf8'), '{"version":1,"accounts":[');
  });

  it('drains an in-flight stream on SIGTERM, then exits 0', async () => {
    const home = await tempHome();
    const upstream = await startMockUpstream({ tag: 'S' });
    after(() => upstream.close());
    assert.equal((await runCli(['accounts', 'add', 's', '--base-url', `${upstream.url}/v1`], home.env, 'sk-s')).code, 0);
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/aigate.js'), 'serve', '--listen', '127.0.0.1:0', '--json'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    const ready = await new Promise<{ base_url: string }>((resolve) => child.stdout.once('data', (d) => resolve(JSON.parse(String(d)))));
    upstream.plans.push({ kind: 'ok', text: 'slow answer', delayMs: 400 });
    const pending = postResponses(ready.base_url, turn('slow'));
    await new Promise((r) => setTimeout(r, 150)); // the request is in flight, waiting on the slow upstream
    child.kill('SIGTERM');
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(parseSse(res.text).at(-1).type, 'response.completed');
    assert.equal(await exited, 0);
  });
});

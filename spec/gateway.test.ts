import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { addProvider, parseSse, postResponses, startGateway, tempHome, turn } from './_helpers.js';
import { startMockUpstream, answerEvents } from './mock-upstream.js';
import { after } from 'node:test';

describe('gateway relay', async () => {
  const home = await tempHome();
  const upstream = await startMockUpstream({ tag: 'A', rateLimits: { primaryUsed: 42, secondaryUsed: 81 }, deltas: 400 });
  after(() => upstream.close());
  const gw = await startGateway(home);
  await addProvider(gw, 'alpha', `${upstream.url}/v1`, 'sk-alpha-key-xyz');

  it('relays a long SSE stream byte for byte with the rate-limit headers', async () => {
    const text = 'x'.repeat(16_000);
    upstream.plans.push({ kind: 'ok', text });
    const res = await postResponses(gw.base, turn('hi'), { 'session-id': 's1', originator: 'codex_exec' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-codex-primary-used-percent'), '42');
    assert.equal(res.headers.get('x-codex-secondary-used-percent'), '81');
    const events = parseSse(res.text);
    assert.equal(events.at(-1).type, 'response.completed');
    assert.equal(events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join(''), text);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.path, '/v1/responses');
    assert.equal(seen.headers.authorization, 'Bearer sk-alpha-key-xyz');
    assert.equal(seen.headers['session-id'], 's1');
    assert.equal(seen.headers.originator, 'codex_exec');
  });

  it('answers a WebSocket upgrade with 426', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gw.base}/responses`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
      req.on('response', (r) => resolve(r.statusCode!));
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 426);
  });

  it('refuses a request with a browser Origin', async () => {
    const before = upstream.seen.length;
    const res = await postResponses(gw.base, turn('hi'), { origin: 'https://evil.example' });
    assert.equal(res.status, 403);
    assert.equal(JSON.parse(res.text).error.code, 'forbidden_origin');
    assert.equal(upstream.seen.length, before);
  });

  void answerEvents;
});

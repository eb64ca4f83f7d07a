import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchGateway } from '../src/launch.js';
import { EventBus, type RequestRecord } from '../src/state/events.js';
import { statsDir } from '../src/state/paths.js';
import { aggregate } from '../src/state/stats/aggregate.js';
import { readStats, StatsRecorder, type StatLine } from '../src/state/stats/records.js';
import { addProvider, ensureBuilt, postResponses, runCli, startGateway, tempHome, TestClock, turn } from './_helpers.js';
import { sseEvent, startMockUpstream, usage as mockUsage } from './mock-upstream.js';

const expectedUsage = {
  inputTokens: mockUsage.input_tokens,
  cachedTokens: mockUsage.input_tokens_details.cached_tokens,
  outputTokens: mockUsage.output_tokens,
  reasoningTokens: mockUsage.output_tokens_details.reasoning_tokens,
  totalTokens: mockUsage.total_tokens,
};

const requests = (lines: StatLine[]) => lines.filter((l): l is Extract<StatLine, { kind: 'request' }> => l.kind === 'request');
const record = (at: number, extra: Partial<RequestRecord> = {}): RequestRecord => ({ at, route: 'responses', status: 200, totalMs: 10, hops: [], ...extra });

describe('statistics from relayed requests', async () => {
  const home = await tempHome();
  const upstream = await startMockUpstream({ tag: 'A' });
  const second = await startMockUpstream({ tag: 'B' });
  after(() => Promise.all([upstream.close(), second.close()]));
  const gw = await startGateway(home);
  await addProvider(gw, 'alpha', `${upstream.url}/v1`);
  await addProvider(gw, 'beta', `${second.url}/v1`);
  // The record is emitted once the upstream response has closed, which can be just after the client has it all.
  const all = async (recorded?: Promise<unknown>) => {
    await recorded;
    await gw.stats!.flush();
    return readStats(home.paths, 0);
  };

  it('records the usage of a streamed answer exactly as the upstream sent it, and no text', async () => {
    const recorded = once(gw.bus, 'request');
    const res = await postResponses(gw.base, turn('a private prompt about zebras'), { originator: 'codex_exec' });
    assert.equal(res.status, 200);
    const [line] = requests(await all(recorded)).slice(-1);
    assert.deepEqual(line!.usage, expectedUsage);
    assert.equal(line!.account, 'alpha');
    assert.equal(line!.model, 'gpt-5.1-codex');
    assert.equal(line!.client, 'codex_exec');
    assert.equal(line!.status, 200);
    assert.equal(line!.bytes, Buffer.byteLength(res.text));
    assert.ok(line!.totalMs >= line!.ttfbMs!);
    const files = await fs.readdir(statsDir(home.paths));
    const text = (await Promise.all(files.map((f) => fs.readFile(path.join(statsDir(home.paths), f), 'utf8')))).join('');
    assert.doesNotMatch(text, /zebras|Hello from/);
  });

  it('records the usage of a JSON answer (/responses/compact)', async () => {
    const recorded = once(gw.bus, 'request');
    const res = await fetch(`${gw.base}/responses/compact`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(turn('compact me')) });
    const body = await res.text();
    assert.equal(res.status, 200);
    const [line] = requests(await all(recorded)).slice(-1);
    assert.equal(line!.route, 'responses/compact');
    assert.deepEqual(line!.usage, expectedUsage);
    assert.equal(line!.bytes, Buffer.byteLength(body));
  });

  it('records a failover as a hop and a failover line, counted once per account', async () => {
    upstream.plans.push({ kind: 'usage-limit', resetsAt: Math.floor(Date.now() / 1000) + 3600 });
    const recorded = once(gw.bus, 'request');
    const res = await postResponses(gw.base, turn('hi'));
    assert.equal(res.status, 200);
    const lines = await all(recorded);
    const last = requests(lines).at(-1)!;
    assert.equal(last.account, 'beta');
    assert.deepEqual(last.hops, [{ account: 'alpha', reason: 'usage-limit', status: 429 }]);
    const failover = lines.filter((l) => l.kind === 'failover').at(-1);
    assert.equal(failover?.kind === 'failover' && failover.from, 'alpha');
    const { rows, total } = aggregate(lines, 'account', { since: 0, until: Date.now() });
    assert.equal(rows.find((r) => r.key === 'alpha')!.failovers, 1);
    assert.equal(rows.find((r) => r.key === 'beta')!.requests, 1);
    assert.equal(total.failovers, 1);
    assert.equal(total.requests, 3);
  });

  it('writes files 0600 in a 0700 folder', async () => {
    const dir = statsDir(home.paths);
    assert.equal((await fs.stat(dir)).mode & 0o777, 0o700);
    for (const f of await fs.readdir(dir)) assert.equal((await fs.stat(path.join(dir, f))).mode & 0o777, 0o600);
  });
});

describe('statistics across a stop', () => {
  it('keeps the records of the last second when the gateway stops', async () => {
    const home = await tempHome();
    const upstream = await startMockUpstream({ tag: 'S' });
    after(() => upstream.close());
    const gw = await launchGateway({ address: { host: '127.0.0.1', port: 0 }, env: home.env, paths: home.paths, keychain: null });
    await addProvider(gw, 'solo', `${upstream.url}/v1`);
    for (let i = 0; i < 3; i++) {
      const recorded = once(gw.bus, 'request');
      assert.equal((await postResponses(`${gw.gateway.url}/ai-router/api`, turn(`n${i}`))).status, 200);
      await recorded;
    }
    assert.deepEqual(await readStats(home.paths, 0), [], 'nothing written on the request path');
    await gw.stop(0);
    const lines = requests(await readStats(home.paths, 0));
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => l.usage?.totalTokens === mockUsage.total_tokens));
  });

  it('records nothing with AIGATE_STATS=off', async () => {
    const home = await tempHome();
    const upstream = await startMockUpstream({ tag: 'O' });
    after(() => upstream.close());
    const gw = await launchGateway({ address: { host: '127.0.0.1', port: 0 }, env: { ...home.env, AIGATE_STATS: 'off' }, paths: home.paths, keychain: null });
    await addProvider(gw, 'solo', `${upstream.url}/v1`);
    assert.equal((await postResponses(`${gw.gateway.url}/ai-router/api`, turn('x'))).status, 200);
    await gw.stop(0);
    assert.equal(gw.stats, undefined);
    assert.deepEqual(await readStats(home.paths, 0), []);
  });
});

describe('a 100 MB stream', () => {
  it('is relayed whole and recorded with its byte count and usage', async () => {
    const home = await tempHome();
    const total = 100 * 1024 * 1024;
    const big = { input_tokens: 5000, input_tokens_details: { cached_tokens: 4000 }, output_tokens: 2_000_000, output_tokens_details: { reasoning_tokens: 77 }, total_tokens: 2_005_000 };
    const head = Buffer.from(sseEvent('response.created', { response: { id: 'resp_big', status: 'in_progress', output: [] } }));
    const delta = Buffer.from(sseEvent('response.output_text.delta', { item_id: 'msg_big', output_index: 0, content_index: 0, delta: 'y'.repeat(64 * 1024 - 120) }));
    const tail = Buffer.from(sseEvent('response.completed', { response: { id: 'resp_big', status: 'completed', output: [], usage: big } }));
    const chunks = Math.ceil(total / delta.length);
    const expected = head.length + chunks * delta.length + tail.length;
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(head);
      let sent = 0;
      const pump = () => {
        while (sent < chunks) {
          sent++;
          if (!res.write(delta)) return void res.once('drain', pump);
        }
        res.end(tail);
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => new Promise<void>((r) => server.close(() => r())));
    const gw = await startGateway(home);
    await addProvider(gw, 'bulk', `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`);

    const recorded = once(gw.bus, 'request');
    const received = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${gw.base}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(JSON.stringify(turn('big')));
    });
    assert.equal(received, expected);
    await recorded;
    await gw.stats!.flush();
    const [line] = requests(await readStats(home.paths, 0));
    assert.equal(line!.bytes, expected);
    assert.deepEqual(line!.usage, { inputTokens: 5000, cachedTokens: 4000, outputTokens: 2_000_000, reasoningTokens: 77, totalTokens: 2_005_000 });
  });
});

describe('stats files by day', () => {
  it('puts each record in the file of its UTC day and removes days past the retention', async () => {
    const home = await tempHome();
    const dir = statsDir(home.paths);
    await fs.mkdir(dir, { recursive: true });
    for (const name of ['2025-12-10.jsonl', '2025-12-11.jsonl', 'notes.txt']) await fs.writeFile(path.join(dir, name), '');
    const clock = new TestClock(Date.parse('2026-03-10T23:59:59Z'));
    const bus = new EventBus();
    let retention = 90;
    const recorder = new StatsRecorder(home.paths, bus, { clock, retentionDays: () => retention, flushMs: 60_000 });

    bus.emit('request', record(clock.now(), { account: 'a' }));
    assert.deepEqual((await fs.readdir(dir)).sort(), ['2025-12-10.jsonl', '2025-12-11.jsonl', 'notes.txt'], 'held in memory until a flush');
    await recorder.flush();
    // 90 days kept: 2026-03-10 back to 2025-12-11.
    assert.deepEqual((await fs.readdir(dir)).sort(), ['2025-12-11.jsonl', '2026-03-10.jsonl', 'notes.txt']);

    clock.advance(2_000); // past midnight UTC
    bus.emit('request', record(clock.now(), { account: 'b' }));
    await recorder.flush();
    assert.deepEqual((await fs.readdir(dir)).sort(), ['2026-03-10.jsonl', '2026-03-11.jsonl', 'notes.txt']);
    const [day1, day2] = await Promise.all(['2026-03-10', '2026-03-11'].map((d) => fs.readFile(path.join(dir, `${d}.jsonl`), 'utf8')));
    assert.equal(JSON.parse(day1!).account, 'a');
    assert.equal(JSON.parse(day2!).account, 'b');

    retention = 1;
    assert.deepEqual(await recorder.prune(), ['2026-03-10']);
    await recorder.stop();
    bus.emit('request', record(clock.now(), { account: 'late' }));
    await recorder.flush();
    assert.equal((await fs.readFile(path.join(dir, '2026-03-11.jsonl'), 'utf8')).trim().split('\n').length, 1, 'stopped: no more records');
  });

  it('skips a line cut short by a crash', async () => {
    const home = await tempHome();
    const dir = statsDir(home.paths);
    await fs.mkdir(dir, { recursive: true });
    const at = Date.parse('2026-01-02T10:00:00Z');
    await fs.writeFile(path.join(dir, '2026-01-02.jsonl'), JSON.stringify({ kind: 'request', ...record(at) }) + '\n{"kind":"requ');
    assert.equal((await readStats(home.paths, 0)).length, 1);
  });
});

describe('aggregates', () => {
  const base = new Date(2026, 2, 1, 9, 30).getTime(); // local time: buckets are local
  const lines: StatLine[] = [];
  for (let i = 1; i <= 20; i++) lines.push({ kind: 'request', ...record(base + i * 60_000, { account: 'a', model: 'm1', totalMs: i, ttfbMs: i / 2 }) });
  lines.push({ kind: 'request', ...record(base + 2 * 3_600_000, { account: 'b', model: 'm2', status: 500, totalMs: 100 }) });
  lines.push({ kind: 'request', ...record(base + 2 * 3_600_000, { account: 'b', model: 'm2', status: 499, totalMs: 100 }) });
  lines.push({ kind: 'request', ...record(base + 2 * 3_600_000, { account: 'b', model: 'm2', totalMs: 100, hops: [{ account: 'b', reason: 'stream-cut', status: 200 }] }) });

  it('computes p50/p95 latency and counts errors (a client that left is not one)', () => {
    const { rows, total } = aggregate(lines, 'account', { since: base, until: base + 3 * 3_600_000 });
    const a = rows.find((r) => r.key === 'a')!;
    assert.equal(a.requests, 20);
    assert.equal(a.totalP50, 10);
    assert.equal(a.totalP95, 19);
    assert.equal(a.ttfbP50, 5);
    assert.equal(rows.find((r) => r.key === 'b')!.errors, 2);
    assert.equal(total.requests, 23);
    assert.equal(total.inputTokens, 0);
  });

  it('fills every hour of the range, quiet ones with zero', () => {
    const { rows } = aggregate(lines, 'hour', { since: base, until: base + 3 * 3_600_000 });
    assert.deepEqual(
      rows.map((r) => [r.key.slice(-5), r.requests]),
      [['09:00', 20], ['10:00', 0], ['11:00', 3], ['12:00', 0]],
    );
  });
});

describe('aigate stats', () => {
  before(ensureBuilt);

  it('prints a table per model from the files, without a gateway', async () => {
    const home = await tempHome();
    const dir = statsDir(home.paths);
    await fs.mkdir(dir, { recursive: true });
    const now = Date.now();
    const u = (input: number, output: number) => ({ inputTokens: input, cachedTokens: 10, outputTokens: output, reasoningTokens: 1, totalTokens: input + output });
    const fixture: StatLine[] = [
      { kind: 'request', ...record(now - 3_600_000, { account: 'a', model: 'gpt-5.1-codex', usage: u(1000, 200), totalMs: 800, ttfbMs: 120 }) },
      { kind: 'request', ...record(now - 1_800_000, { account: 'b', model: 'gpt-5.1-codex', usage: u(3000, 400), totalMs: 1200, ttfbMs: 300, hops: [{ account: 'a', reason: 'usage-limit', status: 429 }] }) },
      { kind: 'request', ...record(now - 600_000, { account: 'b', model: 'gpt-5-mini', status: 502, totalMs: 40 }) },
      { kind: 'request', ...record(now - 10 * 86_400_000, { account: 'a', model: 'old-model', usage: u(9, 9) }) },
    ];
    for (const line of fixture) {
      const file = path.join(dir, `${new Date(line.at).toISOString().slice(0, 10)}.jsonl`);
      await fs.appendFile(file, JSON.stringify(line) + '\n');
    }

    const table = await runCli(['stats', '--by', 'model'], home.env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(lines[0]!.slice(0, 8), ['MODEL', 'REQUESTS', 'ERRORS', 'FAILOVERS', 'INPUT', 'CACHED', 'OUTPUT', 'REASONING']);
    assert.deepEqual(lines[1]!.slice(0, 8), ['gpt-5.1-codex', '2', '0', '1', '4,000', '20', '600', '2']);
    assert.deepEqual(lines[2]!.slice(0, 4), ['gpt-5-mini', '1', '1', '0']);
    assert.deepEqual(lines[3]!.slice(0, 5), ['total', '3', '1', '1', '4,000']);
    assert.doesNotMatch(table.stdout, /old-model/);

    const json = await runCli(['stats', '--since', '30d', '--by', 'account', '--json'], home.env);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.total.requests, 4);
    assert.deepEqual(parsed.rows.map((r: { key: string; requests: number; failovers: number }) => [r.key, r.requests, r.failovers]), [['a', 2, 1], ['b', 2, 0]]);

    const bad = await runCli(['stats', '--by', 'colour'], home.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--by colour is not one of account, model, day, hour/);
  });
});

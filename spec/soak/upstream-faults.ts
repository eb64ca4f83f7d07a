/**
 * Scenario 2, faults upstream. Each request must either complete on a healthy
 * account (byte for byte) or end the way codex-protocol.md says Codex recovers
 * from — a stream that ends without `response.completed` (Codex re-sends the
 * turn; here the client re-sends it too and it must then complete), a 5xx, or
 * a 429 with Retry-After / `resets_at`. The gateway stays up and its heap
 * after GC stays flat; a huge stream does not grow its RSS.
 */
import http from 'node:http';
import { admin, codexBody, sleep, streamRequest, type StreamResult } from './client.js';
import { mb, Scenario, type ScenarioResult } from './report.js';
import { apiKey, type Rig, type Suite } from './rig.js';
import { BigStream, seededEvents } from './seeded-stream.js';

const SHAPE = { events: 12, deltaChars: 40 };
let seed = 5_000_000;
let reqId = 0;

interface Sent {
  first: StreamResult;
  /** The client's re-send, when the first ended the recoverable way. */
  retry?: StreamResult;
}

/** One Codex-like turn with `fault` on its first attempt; re-sent once when the first answer was recoverable. */
async function turn(rig: Rig, agent: http.Agent, fault: string, options: { abortAfterMs?: number; path?: string } = {}): Promise<Sent> {
  const n = ++seed;
  const headers = {
    'x-soak-seed': String(n),
    'x-soak-events': String(SHAPE.events),
    'x-soak-delta': String(SHAPE.deltaChars),
    'x-soak-fault': fault,
    'x-soak-req': `fault-${++reqId}`,
    'session-id': `soak-fault-${n}`,
  };
  const url = `${rig.serve.url}${options.path ?? '/ai-router/api/responses'}`;
  const send = (abortAfterMs?: number) => streamRequest(url, { agent, body: codexBody(n), headers, expected: seededEvents(n, SHAPE), abortAfterMs, keepBody: true });
  const first = await send(options.abortAfterMs);
  if (first.whole) return { first };
  return { first, retry: await send() };
}

/** How the first answer ended: `whole`, a clean cut (Codex re-sends), or something Codex cannot recover from. */
function verdict(r: StreamResult): 'whole' | 'cut' | 'retryable-status' | 'bad' {
  if (r.whole && r.status === 200) return 'whole';
  if (r.status === 200 && r.prefix && !r.completed) return 'cut';
  if (r.status >= 500 || r.status === 429) return 'retryable-status';
  return 'bad';
}

export async function upstreamFaultsScenario(suite: Suite, rig: Rig): Promise<ScenarioResult> {
  const s = new Scenario('2. faults upstream');
  const { faults } = suite.mode;
  const call = (method: string, path: string, body?: unknown) => admin(rig.serve.url, rig.token, suite.logs, method, `/aigate/api${path}`, body);
  const agent = new http.Agent({ keepAlive: true });
  const heapBefore = await rig.serve.heap();
  let requests = 0;

  // Faults on the first attempt: before any byte reaches the client the gateway must move on.
  for (const fault of ['reset-before', 'reset-after-headers', 'no-headers']) {
    const sent = await Promise.all(Array.from({ length: faults.perKind }, () => turn(rig, agent, fault)));
    requests += sent.length;
    const whole = sent.filter((x) => verdict(x.first) === 'whole').length;
    s.set(`${fault}`, `${sent.length} requests, ${whole} completed on another account`);
    s.expect(whole === sent.length, `${fault}: ${sent.length - whole} requests did not complete elsewhere, e.g. ${JSON.stringify(sent.find((x) => !x.first.whole)?.first)}`);
  }

  // Faults after bytes went out: the stream ends without response.completed; the re-send completes.
  for (const fault of ['reset-mid-event']) {
    const sent = await Promise.all(Array.from({ length: faults.perKind }, () => turn(rig, agent, fault)));
    requests += sent.length * 2;
    const cut = sent.filter((x) => verdict(x.first) === 'cut').length;
    const recovered = sent.filter((x) => x.retry?.whole).length;
    s.set(fault, `${sent.length} requests: ${cut} cut cleanly (no response.completed, bytes a true prefix), ${recovered} re-sends completed`);
    s.expect(cut === sent.length && recovered === sent.length, `${fault}: ${sent.length - cut} ended another way, ${sent.length - recovered} re-sends failed: ${JSON.stringify(sent.find((x) => verdict(x.first) !== 'cut' || !x.retry?.whole))}`);
  }

  // A stalled stream: the client (Codex: stream_idle_timeout_ms) gives up; the gateway must drop the upstream at once.
  {
    const sent = await Promise.all(Array.from({ length: faults.perKind }, () => turn(rig, agent, 'stall', { abortAfterMs: 1_500 })));
    requests += sent.length * 2;
    await sleep(300);
    const counters = await suite.mock.stats();
    const closed: number[] = counters.stallClosedAfterMs;
    const lag = Math.max(...closed.map((t) => t - 1_500));
    const recovered = sent.filter((x) => x.retry?.whole).length;
    s.set('stall', `${sent.length} streams stalled after 2 events; client gave up at 1.5 s; upstream closed ≤ ${lag.toFixed(0)} ms later; ${counters.stallsOpen} still open; ${recovered} re-sends completed`);
    s.expect(counters.stallsOpen === 0, `${counters.stallsOpen} stalled upstream streams were still open after the client left`);
    s.expect(recovered === sent.length, `stall: ${sent.length - recovered} re-sends did not complete`);
    const hung: number[] = counters.hungClosedAfterMs;
    s.set('no-headers gave up after', `${Math.min(...hung)}–${Math.max(...hung)} ms (AIGATE_HEADERS_TIMEOUT_MS=1500)`);
  }

  // Storms: one account answers only 429 (or 503) while the others are healthy; it is the preferred one.
  for (const kind of ['storm429', 'storm5xx']) {
    const name = `${kind}-acct`;
    const key = apiKey(name);
    suite.secrets.add(key);
    suite.mock.setKeys({ [name]: key });
    const added = await call('POST', '/accounts', { name, baseUrl: `${suite.mock.url}/acct/${name}/v1`, apiKey: key });
    s.expect(added.status === 201, `adding ${name}: ${added.status} ${added.text}`);
    await call('POST', `/accounts/${name}/use`);
    const before = (await suite.mock.stats()).byAccount[name] ?? 0;
    const results: StreamResult[] = [];
    for (let i = 0; i < faults.storm; i += 10) {
      const wave = await Promise.all(Array.from({ length: Math.min(10, faults.storm - i) }, () => turn(rig, agent, 'none')));
      results.push(...wave.map((w) => w.first));
      if (kind === 'storm429') await sleep(250); // the 1 s cooldown passes now and then: the storm keeps hitting
    }
    requests += results.length;
    const hits = ((await suite.mock.stats()).byAccount[name] ?? 0) - before;
    const whole = results.filter((r) => r.whole).length;
    // Pinned to the stormy account, there is nowhere to fail over: the answer must be one Codex retries or explains.
    const pinned = await streamRequest(`${rig.serve.base}/accounts/${name}/responses`, { agent, body: codexBody(1), keepBody: true });
    requests++;
    const pinnedJson = safeJson(pinned.body);
    s.set(kind, `${results.length} requests, ${whole} completed on healthy accounts; the stormy account was tried ${hits} times; pinned to it: ${pinned.status} ${pinnedJson?.error?.code ?? ''}`);
    s.expect(whole === results.length, `${kind}: ${results.length - whole} requests failed although healthy accounts were left`);
    if (kind === 'storm429') {
      const ok = pinned.status === 429 && (pinnedJson?.error?.resets_at !== undefined || /retry/i.test(pinnedJson?.error?.message ?? ''));
      s.expect(ok, `pinned to a 429 account: ${pinned.status} ${pinned.body}`);
    } else s.expect(pinned.status >= 500, `pinned to a 503 account: ${pinned.status} ${pinned.body}`);
    await call('POST', `/accounts/${rig.accounts[0]}/use`);
    await call('DELETE', `/accounts/${name}`);
  }

  // Redirects: relayed, never followed — the trap port must see no request and no key.
  {
    const results: string[] = [];
    for (const name of ['redirect-http', 'redirect-file']) {
      const key = apiKey(name);
      suite.secrets.add(key);
      suite.mock.setKeys({ [name]: key });
      await call('POST', '/accounts', { name, baseUrl: `${suite.mock.url}/acct/${name}/v1`, apiKey: key });
      const r = await streamRequest(`${rig.serve.base}/accounts/${name}/responses`, { agent, body: codexBody(2), keepBody: true });
      requests++;
      results.push(`${name} → ${r.status}`);
      s.expect(r.status !== 200, `${name}: a redirect turned into a 200`);
      await call('DELETE', `/accounts/${name}`);
    }
    await sleep(200);
    const counters = await suite.mock.stats();
    s.set('redirects', `${results.join(', ')}; trap port saw ${counters.trapHits} requests, ${counters.trapSawKey} with a key`);
    s.expect(counters.trapHits === 0 && counters.trapSawKey === 0, `the gateway followed a redirect: trap hits ${counters.trapHits}, with key ${counters.trapSawKey}`);
  }

  // A huge stream, read at full speed and then slowly: RSS must not follow the stream's size.
  for (const [label, bytes, pauseMs] of [
    ['huge stream', faults.bigBytes, 0],
    ['huge stream, slow reader', Math.round(faults.bigBytes / 4), 2],
  ] as const) {
    const big = new BigStream(++seed, Math.ceil(bytes / new BigStream(0, 1).eventBytes));
    const rssBefore = rig.serve.memory().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rig.serve.memory().rss)), 100);
    const t0 = Date.now();
    const r = await streamRequest(`${rig.serve.base}/responses`, {
      agent,
      body: codexBody(big.seed),
      headers: { 'x-soak-seed': String(big.seed), 'x-soak-big': String(big.count), 'session-id': `soak-big-${big.seed}` },
      expected: big.buffers(),
      pauseMs,
    });
    clearInterval(sampler);
    requests++;
    const secs = (Date.now() - t0) / 1000;
    s.set(label, `${mb(r.bytes)} in ${secs.toFixed(1)} s, ${r.whole ? 'byte-identical' : `DIFFERENT at ${r.mismatchAt}`}; gateway RSS ${mb(rssBefore)} → peak ${mb(rssPeak)} → ${mb(rig.serve.memory().rss)}`);
    s.expect(r.whole && r.bytes === big.totalBytes, `${label}: ${r.bytes} of ${big.totalBytes} bytes, whole=${r.whole}, error=${r.error}`);
    s.expect(rssPeak - rssBefore < 96 * 1024 * 1024, `${label}: RSS grew by ${mb(rssPeak - rssBefore)} while relaying`);
  }

  agent.destroy();
  await sleep(2_500);
  const heapAfter = await rig.serve.heap();
  s.set('requests', requests);
  s.set('heap after GC before / after', `${mb(heapBefore.heapUsed)} / ${mb(heapAfter.heapUsed)}`);
  s.set('fds after', rig.serve.fds());
  s.expect(heapAfter.heapUsed <= heapBefore.heapUsed + 16 * 1024 * 1024, `heap after GC grew from ${mb(heapBefore.heapUsed)} to ${mb(heapAfter.heapUsed)}`);
  s.expect(rig.serve.alive(), 'aigate serve died');
  const counters = await suite.mock.stats();
  s.expect(counters.authMismatch === 0, `${counters.authMismatch} upstream requests carried the wrong key`);
  return s.done();
}

function safeJson(text: string | undefined): any {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

/**
 * Scenario 1, load: `streams` long SSE streams open at once through the
 * gateway for the whole duration, plus a steady trickle of short requests,
 * half through the gateway and half straight to the mock (the baseline for
 * "added latency"). Every stream is compared byte for byte with what the mock
 * sent. File descriptors, RSS and the heap after a full GC are read before the
 * load and after it has drained.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { percentile, sleep, streamRequest, codexBody, type StreamResult } from './client.js';
import { mb, Scenario, type ScenarioResult } from './report.js';
import type { Rig, Suite } from './rig.js';
import { seededEvents } from './seeded-stream.js';

const SHORT = { events: 5, deltaChars: 24 };

/** Waits until the gateway's fd count is back to `target` (idle sockets closing), at most `maxMs`. */
async function settleFds(rig: Rig, target: number, maxMs: number): Promise<number> {
  const until = Date.now() + maxMs;
  let fds = rig.serve.fds();
  while (fds > target && Date.now() < until) {
    await sleep(250);
    fds = rig.serve.fds();
  }
  return fds;
}

export async function loadScenario(suite: Suite, rig: Rig): Promise<ScenarioResult> {
  const s = new Scenario('1. load');
  const { load } = suite.mode;
  const account = rig.accounts[0]!;
  const direct = `${suite.mock.url}/acct/${account}/v1/responses`;
  const viaGateway = `${rig.serve.base}/responses`;
  let seed = 1_000_000;

  const short = (url: string, agent: http.Agent, extra: Record<string, string> = {}) => {
    const n = ++seed;
    return streamRequest(url, {
      agent,
      body: codexBody(n),
      headers: { 'x-soak-seed': String(n), 'x-soak-events': String(SHORT.events), 'x-soak-delta': String(SHORT.deltaChars), ...extra },
      expected: seededEvents(n, SHORT),
    });
  };
  const auth = { authorization: `Bearer ${rig.keys[account]}` };

  // Warm up (JIT, pools, lazily opened files), then let idle sockets close before the "before" reading.
  const warm = new http.Agent({ keepAlive: true });
  for (let i = 0; i < 40; i++) await Promise.all([short(viaGateway, warm), short(direct, warm, auth)]);
  warm.destroy();
  const fdsBefore = await settleFds(rig, 0, 3_500);
  const heapBefore = await rig.serve.heap();
  const rssBefore = rig.serve.memory().rss;

  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const deadline = performance.now() + load.durationMs;
  const streamMs = load.events * load.gapMs;
  const maxLong = load.streams * (Math.ceil(load.durationMs / streamMs) + 1);
  const long: StreamResult[] = [];
  let fdsPeak = fdsBefore;
  let rssPeak = rssBefore;
  let started = 0;
  const sampler = setInterval(() => {
    fdsPeak = Math.max(fdsPeak, rig.serve.fds());
    rssPeak = Math.max(rssPeak, rig.serve.memory().rss);
  }, 500);

  const worker = async (w: number) => {
    // Stagger the first wave over one stream's length, so streams end (and restart) spread out.
    await sleep((w / load.streams) * streamMs);
    while (performance.now() < deadline && started < maxLong) {
      started++;
      const n = ++seed;
      const shape = { events: load.events, deltaChars: 24 };
      long.push(
        await streamRequest(viaGateway, {
          agent,
          body: codexBody(n),
          headers: {
            'session-id': `soak-load-${w}`,
            'x-soak-seed': String(n),
            'x-soak-events': String(shape.events),
            'x-soak-delta': String(shape.deltaChars),
            'x-soak-gap-ms': String(load.gapMs),
          },
          expected: seededEvents(n, shape),
        }),
      );
    }
  };
  const shortGateway: StreamResult[] = [];
  const shortDirect: StreamResult[] = [];
  const trickle = async () => {
    const pending: Promise<unknown>[] = [];
    const every = 1000 / load.shortPerSecond;
    for (let i = 0; performance.now() < deadline; i++) {
      pending.push(i % 2 ? short(direct, agent, auth).then((r) => shortDirect.push(r)) : short(viaGateway, agent).then((r) => shortGateway.push(r)));
      await sleep(every);
    }
    await Promise.all(pending);
  };
  const t0 = performance.now();
  await Promise.all([...Array.from({ length: load.streams }, (_, w) => worker(w)), trickle()]);
  const elapsed = performance.now() - t0;
  clearInterval(sampler);
  agent.destroy();

  const fdsAfter = await settleFds(rig, fdsBefore, 10_000);
  const heapAfter = await rig.serve.heap();
  const rssAfter = rig.serve.memory().rss;

  const failedLong = long.filter((r) => r.status !== 200 || !r.completed || r.error);
  const corruptLong = long.filter((r) => !r.whole);
  const failedShort = shortGateway.filter((r) => r.status !== 200 || !r.whole);
  const gw = shortGateway.map((r) => r.ttfbMs);
  const base = shortDirect.map((r) => r.ttfbMs);
  const longBytes = long.reduce((sum, r) => sum + r.bytes, 0);

  s.set('duration', `${(elapsed / 1000).toFixed(1)} s, ${load.streams} concurrent long streams (${load.events} events × ${load.gapMs} ms)`);
  s.set('long streams', `${long.length} done, ${failedLong.length} failed, ${corruptLong.length} not byte-identical, ${mb(longBytes)} relayed`);
  s.set('short requests', `${shortGateway.length} via gateway (${failedShort.length} failed), ${shortDirect.length} direct`);
  s.set('TTFB p50 gateway / direct', `${percentile(gw, 50).toFixed(1)} / ${percentile(base, 50).toFixed(1)} ms`);
  s.set('TTFB p99 gateway / direct', `${percentile(gw, 99).toFixed(1)} / ${percentile(base, 99).toFixed(1)} ms`);
  s.set('added latency p50 / p99', `${(percentile(gw, 50) - percentile(base, 50)).toFixed(1)} / ${(percentile(gw, 99) - percentile(base, 99)).toFixed(1)} ms`);
  s.set('fds before / peak / after', `${fdsBefore} / ${fdsPeak} / ${fdsAfter}`);
  s.set('RSS before / peak / after', `${mb(rssBefore)} / ${mb(rssPeak)} / ${mb(rssAfter)}`);
  s.set('heap after GC before / after', `${mb(heapBefore.heapUsed)} / ${mb(heapAfter.heapUsed)}`);

  s.expect(long.length >= load.streams, `only ${long.length} long streams ran`);
  s.expect(failedLong.length === 0, `${failedLong.length} long streams failed, e.g. ${JSON.stringify(failedLong[0] ?? {})}`);
  s.expect(corruptLong.length === 0, `${corruptLong.length} long streams differ from what the mock sent, e.g. at byte ${corruptLong[0]?.mismatchAt}`);
  s.expect(failedShort.length === 0, `${failedShort.length} short requests through the gateway failed, e.g. ${JSON.stringify(failedShort[0] ?? {})}`);
  s.expect(fdsAfter <= fdsBefore + 4, `fds grew from ${fdsBefore} to ${fdsAfter} after the load drained`);
  s.expect(heapAfter.heapUsed <= heapBefore.heapUsed + 16 * 1024 * 1024, `heap after GC grew from ${mb(heapBefore.heapUsed)} to ${mb(heapAfter.heapUsed)}`);
  s.expect(rig.serve.alive(), 'aigate serve died under load');
  return s.done();
}

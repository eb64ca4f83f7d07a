/**
 * One cell of the bench: a stream shape at a concurrency, run against every
 * target in interleaved rounds (the order rotates each round, so drift and
 * neighbours' noise hit all targets alike). Round 0 warms up and is dropped.
 * CPU is the probed process's own time, per request, in each measured round;
 * the figure is the median over rounds, so a burst from a neighbour process in
 * one round does not move it (the pooled mean is kept in the JSON too).
 */
import { Pool } from 'undici';
import type { CodexRequest } from './codex-request.js';
import { load, percentile, sortedBy, type LoadOptions, type Sample } from './load.js';
import { memory, resetPeak, type Measured } from './processes.js';

export interface Target {
  name: string;
  /** The `/responses` URL Codex would post to. */
  url: string;
  /** The process whose CPU and RSS are billed to this target; none for direct-to-mock. */
  proc?: Measured;
}

export interface CellSpec {
  label: string;
  requests: number;
  concurrency: number;
  rounds: number;
  headers?: Record<string, string>;
  request: CodexRequest;
  session: (target: string, i: number) => string;
  gapMs?: number;
}

export interface TargetResult {
  target: string;
  requests: number;
  failed: number;
  ttfbP50: number;
  ttfbP99: number;
  totalP50: number;
  totalP99: number;
  /** Gateway CPU (user + system) per request, ms: the median over rounds. */
  cpuMsPerRequest?: number;
  /** The same over all measured requests at once. */
  cpuMsPerRequestPooled?: number;
  /** The kernel's share of it (socket writes on loopback are most of it), ms. */
  sysMsPerRequest?: number;
  /** Peak RSS of the gateway during this cell, MB. */
  peakRssMb?: number;
  bytesPerResponse: number;
  chunksPerResponse: number;
  /** Every warm-up response was byte for byte the one the upstream sends directly. */
  identical: boolean;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

export async function runCell(spec: CellSpec, targets: Target[]): Promise<TargetResult[]> {
  const per = Math.ceil(spec.requests / spec.rounds);
  const state = targets.map((t) => ({
    target: t,
    pool: new Pool(new URL(t.url).origin, { connections: spec.concurrency }),
    samples: [] as Sample[],
    cpuUs: 0,
    sysUs: 0,
    perRound: [] as number[],
    served: 0,
    digests: new Set<string>(),
  }));
  for (let round = 0; round <= spec.rounds; round++) {
    if (round === 1) for (const s of state) if (s.target.proc) resetPeak(s.target.proc.child.pid!);
    for (let k = 0; k < state.length; k++) {
      const s = state[(k + round) % state.length]!;
      const before = await s.target.proc?.probe();
      const options: LoadOptions = {
        url: s.target.url,
        pool: s.pool,
        request: spec.request,
        requests: per,
        concurrency: spec.concurrency,
        headers: spec.headers,
        gapMs: spec.gapMs,
        session: (i) => spec.session(s.target.name, s.served + i),
        digest: round === 0,
      };
      const samples = await load(options);
      s.served += per;
      const after = await s.target.proc?.probe();
      if (round === 0) {
        for (const x of samples) s.digests.add(x.digest ?? 'failed');
        continue;
      }
      s.samples.push(...samples);
      if (before && after) {
        s.perRound.push((after.cpuUs - before.cpuUs) / samples.length);
        s.cpuUs += after.cpuUs - before.cpuUs;
        s.sysUs += after.sysUs - before.sysUs;
      }
    }
  }
  // The mock's answers are fixed per shape: what the direct connection got is what every proxy must relay.
  const direct = state.find((s) => !s.target.proc)?.digests;
  return state.map((s) => {
    void s.pool.destroy();
    const good = s.samples.filter((x) => x.ok);
    const ttfb = sortedBy(good, 'ttfb');
    const total = sortedBy(good, 'total');
    const pid = s.target.proc?.child.pid;
    return {
      target: s.target.name,
      requests: s.samples.length,
      failed: s.samples.length - good.length,
      ttfbP50: round3(percentile(ttfb, 50)),
      ttfbP99: round3(percentile(ttfb, 99)),
      totalP50: round3(percentile(total, 50)),
      totalP99: round3(percentile(total, 99)),
      cpuMsPerRequest: s.target.proc ? round3(median(s.perRound) / 1000) : undefined,
      cpuMsPerRequestPooled: s.target.proc ? round3(s.cpuUs / 1000 / s.samples.length) : undefined,
      sysMsPerRequest: s.target.proc ? round3(s.sysUs / 1000 / s.samples.length) : undefined,
      peakRssMb: pid ? Math.round(memory(pid).peak / 1e5) / 10 : undefined,
      bytesPerResponse: Math.round(good.reduce((a, x) => a + x.bytes, 0) / (good.length || 1)),
      chunksPerResponse: Math.round((good.reduce((a, x) => a + x.chunks, 0) / (good.length || 1)) * 10) / 10,
      identical: !!direct && direct.size === 1 && s.digests.size === 1 && [...s.digests][0] === [...direct][0],
    };
  });
}

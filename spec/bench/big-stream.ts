/**
 * A 200 MB SSE stream through a proxy while its RSS is sampled every 20 ms:
 * a relay that holds no body stays flat; one that buffers grows with the stream.
 */
import { Pool } from 'undici';
import { codexRequest } from './codex-request.js';
import { once } from './load.js';
import { memory } from './processes.js';
import type { Target } from './cells.js';

export interface BigStreamResult {
  target: string;
  ok: boolean;
  megabytes: number;
  seconds: number;
  startRssMb: number;
  peakRssMb: number;
  endRssMb: number;
  /** Peak minus start, MB. */
  growthMb: number;
}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

export async function bigStream(target: Target, bytes: number): Promise<BigStreamResult> {
  const pid = target.proc!.child.pid!;
  const pool = new Pool(new URL(target.url).origin, { connections: 1 });
  const request = codexRequest();
  const headers = { 'x-bench-shape': 'huge', 'x-bench-bytes': String(bytes) };
  const start = memory(pid).rss;
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, memory(pid).rss)), 20);
  const sample = await once({ url: target.url, pool, request, requests: 1, concurrency: 1, session: () => 'bench-big', headers }, 0);
  clearInterval(sampler);
  peak = Math.max(peak, memory(pid).rss);
  await new Promise((r) => setTimeout(r, 200));
  const end = memory(pid).rss;
  await pool.destroy();
  return {
    target: target.name,
    ok: sample.ok,
    megabytes: mb(sample.bytes),
    seconds: Math.round(sample.total) / 1000,
    startRssMb: mb(start),
    peakRssMb: mb(peak),
    endRssMb: mb(end),
    growthMb: mb(peak - start),
  };
}

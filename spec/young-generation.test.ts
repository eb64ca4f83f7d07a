import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { COLLECT_AFTER_BYTES, relayed } from '../src/proxy/young-generation.js';

/** Young collections V8 reports while `run` goes on (they arrive as entries after it returns). */
async function youngCollections(run: () => void): Promise<number> {
  let seen = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) seen++;
  });
  observer.observe({ entryTypes: ['gc'] });
  run();
  await new Promise((resolve) => setTimeout(resolve, 50));
  observer.disconnect();
  return seen;
}

describe('the young generation and relayed socket buffers', () => {
  it('asks V8 for one young collection per COLLECT_AFTER_BYTES relayed without one, and none before', async () => {
    const chunk = 64 * 1024;
    await new Promise((resolve) => setTimeout(resolve, 100)); // start-up collections are over
    // The same loops without relaying: what V8 collects of its own accord meanwhile (nothing is allocated).
    const baseline = await youngCollections(() => {
      for (let sent = 0; sent <= 3 * COLLECT_AFTER_BYTES; sent += chunk) void sent;
    });
    const seen = await youngCollections(() => {
      for (let sent = 0; sent <= 3 * COLLECT_AFTER_BYTES; sent += chunk) relayed(chunk);
    });
    assert.ok(seen >= 3 && seen <= 3 + baseline, `expected 3 young collections for ${3 * COLLECT_AFTER_BYTES + chunk} relayed bytes, saw ${seen} (V8 alone: ${baseline})`);
    const under = await youngCollections(() => {
      for (let sent = 2 * chunk; sent < COLLECT_AFTER_BYTES; sent += chunk) relayed(chunk);
    });
    assert.ok(under <= baseline, `less than COLLECT_AFTER_BYTES relayed asks for nothing, saw ${under} (V8 alone: ${baseline})`);
  });
});

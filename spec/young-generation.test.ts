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
  it('asks V8 for a young collection once COLLECT_AFTER_BYTES are relayed without one', async () => {
    // Each call stands for a chunk relayed; the loop allocates nothing, so V8 has no reason of its own to collect.
    const seen = await youngCollections(() => {
      for (let sent = 0; sent <= 3 * COLLECT_AFTER_BYTES; sent += 64 * 1024) relayed(64 * 1024);
    });
    assert.ok(seen >= 2, `expected young collections for ${3 * COLLECT_AFTER_BYTES} relayed bytes, saw ${seen}`);
  });

});

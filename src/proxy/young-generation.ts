import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Relayed bytes after which, if V8 has not collected its young generation on
 * its own, the gateway asks it to. 4 MiB is ten bulky turns; Node frees the
 * socket buffers of that many in about a millisecond.
 */
export const COLLECT_AFTER_BYTES = 4 * 1024 * 1024;

let since = 0;
let collect: ((options: { type: 'minor' }) => void) | null | undefined;
let observer: PerformanceObserver | undefined;

/**
 * Every chunk the relay reads is a fresh socket buffer, memory outside V8's
 * heap that only a collection returns. The relay allocates little on the heap
 * per byte it relays, so on bulky streams V8's young generation (grown to
 * 8 MiB semi-spaces by start-up) fills slowly while those buffers pile up, and
 * V8 answers with full mark-compacts, back to back: 157 of them over 2,880
 * bulky turns at concurrency 1, at 4.0 ms of CPU per turn and 138 MB of peak
 * RSS, against 1 mark-compact, 1.9 ms and 112 MB once the gateway asks for a
 * young collection after COLLECT_AFTER_BYTES relayed without one (any
 * collection V8 makes itself resets the count). Objects that outlive young
 * collections can still start mark-compacts (in `npm run bench`'s four cells:
 * 39, from 55). A young collection frees the buffers, and costs a fraction of
 * a millisecond.
 */
export function relayed(bytes: number): void {
  since += bytes;
  if (since < COLLECT_AFTER_BYTES) return;
  since = 0;
  if (collect === undefined) collect = youngCollector();
  collect?.({ type: 'minor' });
}

function youngCollector(): ((options: { type: 'minor' }) => void) | null {
  try {
    // Node's way to reach V8's collector at run time (v8.setFlagsFromString's own documented use: flags after start).
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (options: { type: 'minor' }) => void;
    observer = new PerformanceObserver((list) => {
      if (list.getEntries().some((e) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)) since = 0;
    });
    observer.observe({ entryTypes: ['gc'] });
    return gc;
  } catch {
    // A runtime without it relays the same, with V8's own timing.
    return null;
  }
}

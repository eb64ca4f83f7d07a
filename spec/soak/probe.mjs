// Preloaded (`node --expose-gc --import`) into the `aigate serve` the soak measures: on request it
// collects garbage and reports heap and RSS over IPC, with no change to the code under test.
process.channel?.unref();
process.on('message', (m) => {
  if (!m || m.soakProbe === undefined) return;
  if (globalThis.gc) {
    globalThis.gc();
    globalThis.gc();
  }
  const mu = process.memoryUsage();
  process.send({ soakProbe: m.soakProbe, heapUsed: mu.heapUsed, rss: mu.rss, external: mu.external, arrayBuffers: mu.arrayBuffers });
});

/**
 * Preloaded (`node --import`) into every process the bench measures, AI Gate
 * included, so each reports its own CPU time (all threads, µs) and RSS over
 * the IPC channel without any change to the code under test.
 */
process.on('message', (message: { probe?: number; bye?: boolean }) => {
  if (message.probe !== undefined) {
    const cpu = process.cpuUsage();
    process.send!({ probe: message.probe, cpuUs: cpu.user + cpu.system, sysUs: cpu.system, rss: process.memoryUsage.rss() });
  } else if (message.bye) {
    process.disconnect(); // lets the process exit by itself (and write its --cpu-prof) on SIGTERM
  }
});

/**
 * How big a soak run is. `short` is what CI runs (the default when CI=true):
 * the whole run stays under ~3 minutes on 2 cores. `long` is the local run the
 * issue describes (60 s of load, a 1 GB stream, 200 kill -9 rounds).
 */
export interface SoakMode {
  name: 'short' | 'long';
  load: {
    /** Concurrent long streams, kept open for the whole duration (each worker opens the next when one ends). */
    streams: number;
    durationMs: number;
    /** Each long stream: this many deltas, this far apart. */
    events: number;
    gapMs: number;
    /** Short requests per second beside the long streams, half through the gateway, half direct (the baseline). */
    shortPerSecond: number;
  };
  faults: {
    /** Requests per upstream fault kind. */
    perKind: number;
    /** Bytes of the huge stream. */
    bigBytes: number;
    /** Requests during the 429 and 5xx storms. */
    storm: number;
  };
  crash: {
    rounds: number;
    /** Rounds that measure how long the next process waits on a lock a killed one left. */
    lockRounds: number;
  };
  concurrency: {
    /** Fresh homes where two processes start writing at the same moment. */
    freshRounds: number;
    /** Accounts each side adds in the mixed serve + CLI run. */
    mixedAdds: number;
  };
  hostile: {
    /** Slow-header and slow-body connections held open against the gateway. */
    slowConnections: number;
    /** How long to wait for the gateway to cut them. */
    slowDeadlineMs: number;
  };
}

const short: SoakMode = {
  name: 'short',
  load: { streams: 500, durationMs: 15_000, events: 40, gapMs: 100, shortPerSecond: 20 },
  faults: { perKind: 8, bigBytes: 200 * 1024 * 1024, storm: 40 },
  crash: { rounds: 30, lockRounds: 1 },
  concurrency: { freshRounds: 6, mixedAdds: 6 },
  hostile: { slowConnections: 20, slowDeadlineMs: 100_000 },
};

const long: SoakMode = {
  name: 'long',
  load: { streams: 500, durationMs: 60_000, events: 100, gapMs: 100, shortPerSecond: 40 },
  faults: { perKind: 40, bigBytes: 1024 * 1024 * 1024, storm: 200 },
  crash: { rounds: 200, lockRounds: 3 },
  concurrency: { freshRounds: 30, mixedAdds: 20 },
  hostile: { slowConnections: 100, slowDeadlineMs: 100_000 },
};

export function soakMode(env: NodeJS.ProcessEnv = process.env): SoakMode {
  const name = env.SOAK_MODE || (env.CI === 'true' || env.CI === '1' ? 'short' : 'long');
  if (name !== 'short' && name !== 'long') throw new Error(`SOAK_MODE=${name}: use short or long`);
  return name === 'short' ? short : long;
}

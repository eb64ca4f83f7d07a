/**
 * `npm run bench`: AI Gate's relay cost against direct-to-upstream, a minimal
 * node:http pipe proxy and the same proxy on got streams — in one run,
 * interleaved, on loopback — plus a 200 MB stream (RSS must stay flat) and the
 * failover hop, and the relay through a local HTTP CONNECT proxy (AI Gate and
 * the pipe proxy each through tinyproxy). Prints tables and the targets (reported, never asserted), and writes
 * spec/artifacts/bench.json.
 *
 *   BENCH_SCALE=0.2    fewer requests per cell (a quick look; the default is the reported run)
 *   BENCH_PROFILE=1    run the main AI Gate under --cpu-prof (spec/artifacts/bench/prof/)
 *   BENCH_NODE_ARGS    node flags for every AI Gate process, e.g. "--trace-gc" (logs in spec/artifacts/bench/)
 *   BENCH_AIGATE_DIR   measure another checkout's src/ (e.g. a fix) against the same baselines
 *   BENCH_ONLY=cells   the four stream cells only (no 200 MB stream, failover or proxy cases)
 *   BENCH_BASE_DIR     also measure this checkout's src/ as "aigate (before)" in the same run (e.g. the
 *                      commit a change started from: `git archive <commit> src | tar -x -C DIR`)
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bigStream } from './big-stream.js';
import { runCell, type Target } from './cells.js';
import { codexRequest } from './codex-request.js';
import { failoverCase, type FailoverResult } from './failover-case.js';
import { proxyCase } from './proxy-case.js';
import { AIGATE_DIR, buildChildren, gatewayHome, memory, OUT, removeHome, ROOT, startChild, startGateway, type Measured } from './processes.js';
import { bigStreamTable, cellTable, checks, checksTable, failoverTable, relayCostTable, type CellReport } from './report.js';

const SCALE = Number(process.env.BENCH_SCALE) || 1;
const CELLS_ONLY = process.env.BENCH_ONLY === 'cells';
const BASE_DIR = process.env.BENCH_BASE_DIR ? path.resolve(process.env.BENCH_BASE_DIR) : undefined;
const PROFILE = process.env.BENCH_PROFILE === '1';
const BIG_BYTES = 200 * 1024 * 1024;
const CELLS = [
  { shape: 'chatty', concurrency: 1, requests: 900 },
  { shape: 'bulky', concurrency: 1, requests: 900 },
  { shape: 'chatty', concurrency: 32, requests: 2000 },
  { shape: 'bulky', concurrency: 32, requests: 2000 },
];
const ROUNDS = 5;
const DESCRIBE: Record<string, string> = { chatty: '400 deltas × 40 B', bulky: '50 deltas × 4000 B' };

/** The lead's stats recorder, when it exists, can be switched off with AIGATE_STATS=off. */
function hasStatsSwitch(dir = path.join(AIGATE_DIR, 'src')): boolean {
  return fs.readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? hasStatsSwitch(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) && fs.readFileSync(path.join(dir, e.name), 'utf8').includes('AIGATE_STATS'),
  );
}

async function main(): Promise<void> {
  const started = Date.now();
  const load0 = os.loadavg();
  await buildChildren(BASE_DIR ? [AIGATE_DIR, BASE_DIR] : [AIGATE_DIR]);
  const procs: Measured[] = [];
  const homes: NodeJS.ProcessEnv[] = [];
  const keep = <T extends Measured>(p: T) => (procs.push(p), p);
  try {
    const mock = keep(await startChild('mock-server', 'mock'));
    const pipe = keep(await startChild('pipe-proxy', 'pipe', mock.url));
    const got = keep(await startChild('got-proxy', 'got', mock.url));
    const home = (dir?: string) => (homes.push(gatewayHome([{ name: 'bench', baseUrl: `${mock.url}/v1` }], dir)), homes.at(-1)!);
    const profileArgs = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(OUT, 'prof')] : [];
    const aigate = keep(await startGateway('aigate', home(), profileArgs));
    const targets: Target[] = [
      { name: 'direct', url: `${mock.url}/v1/responses` },
      { name: 'pipe', url: `${pipe.url}/v1/responses`, proc: pipe },
      { name: 'got', url: `${got.url}/v1/responses`, proc: got },
      { name: 'aigate', url: `${aigate.url}/ai-router/api/responses`, proc: aigate },
    ];
    const gateway = (name: string, proc: Measured & { url: string }) => {
      targets.push({ name, url: `${proc.url}/ai-router/api/responses`, proc });
      gateways.push(name);
    };
    const gateways = ['aigate'];
    if (BASE_DIR) gateway('aigate (before)', keep(await startGateway('aigate-before', home(BASE_DIR), [], BASE_DIR)));
    if (hasStatsSwitch()) gateway('aigate (stats off)', keep(await startGateway('aigate-stats-off', { ...home(), AIGATE_STATS: 'off' })));
    const request = codexRequest();
    await new Promise((r) => setTimeout(r, 500));
    const idleRss = Object.fromEntries(targets.filter((t) => t.proc).map((t) => [t.name, Math.round(memory(t.proc!.child.pid!).rss / 1e5) / 10]));
    console.log(`AI Gate bench — node ${process.version}, ${os.cpus().length} cores, load ${load0.map((l) => l.toFixed(2)).join(' ')}${AIGATE_DIR !== ROOT ? `, AI Gate from ${AIGATE_DIR}` : ''}`);
    console.log(`request body ${(request.body.length / 1024).toFixed(1)} KiB (Codex-shaped, with session-id); ${ROUNDS} interleaved rounds per cell after a warm-up round`);
    console.log(`idle RSS after start (MB): ${Object.entries(idleRss).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);

    if (PROFILE) console.log('NOTE: the main AI Gate runs under --cpu-prof: its CPU and latency include the profiler\'s overhead\n');
    const cells: CellReport[] = [];
    for (const c of CELLS) {
      const label = `${c.shape} (${DESCRIBE[c.shape]}), c=${c.concurrency}`;
      const requests = Math.max(ROUNDS, Math.round(c.requests * SCALE));
      const results = await runCell(
        { label, requests, concurrency: c.concurrency, rounds: ROUNDS, headers: { 'x-bench-shape': c.shape }, request, session: (_t, i) => `bench-conversation-${i % 8}` },
        targets,
      );
      const cell = { label, shape: c.shape, concurrency: c.concurrency, results };
      cells.push(cell);
      console.log(`${cellTable(cell)}\n`);
    }

    // Every request in the cells succeeds upstream: a failover logged here is the gateway misjudging a good stream.
    for (const g of gateways) {
      const log = fs.readFileSync(path.join(OUT, `${targets.find((t) => t.name === g)!.proc!.name}.log`), 'utf8');
      const failovers = log.split('\n').filter((l) => / failover: /.test(l));
      if (failovers.length) console.log(`WARNING: ${g} logged ${failovers.length} failovers on good streams during the cells, e.g. "${failovers[0]!.trim()}"\n`);
    }

    const big = [];
    let failover: FailoverResult[] = [];
    let viaProxy: Awaited<ReturnType<typeof proxyCase>> | undefined;
    if (!CELLS_ONLY) {
      for (const t of targets.filter((t) => t.proc)) big.push(await bigStream(t, BIG_BYTES));
      console.log(`${bigStreamTable(big)}\n`);

      failover = await failoverCase(mock, Math.max(ROUNDS, Math.round(200 * SCALE)), ROUNDS);
      console.log(`${failoverTable(failover)}\n`);

      viaProxy = await proxyCase({ scale: SCALE, rounds: ROUNDS, request });
      for (const cell of viaProxy.cells) console.log(`${cellTable(cell)}\n`);
      console.log(`CONNECT tunnels opened: ${viaProxy.tunnels.map((t) => `${t.target} ${t.tunnels} for ~${t.requests} requests`).join(', ')} (kept alive when far below one per request)\n`);
    }

    console.log(`${relayCostTable(cells, gateways)}\n`);
    const list = checks(cells, big, failover, gateways);
    console.log(checksTable(list));
    const command = `npm run bench${SCALE !== 1 ? ` (BENCH_SCALE=${SCALE})` : ''}${CELLS_ONLY ? ' (BENCH_ONLY=cells)' : ''}`;
    const json = {
      at: new Date(started).toISOString(),
      command,
      commit: execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim(),
      aigateDir: AIGATE_DIR,
      node: process.version,
      cores: os.cpus().length,
      loadavg: { start: load0, end: os.loadavg() },
      seconds: Math.round((Date.now() - started) / 1000),
      idleRssMb: idleRss,
      cells,
      bigStream: big,
      failover,
      throughProxy: viaProxy,
      baseDir: BASE_DIR,
      checks: list,
    };
    fs.writeFileSync(path.join(ROOT, 'spec', 'artifacts', 'bench.json'), `${JSON.stringify(json, null, 2)}\n`);
    console.log(`\n${command}: ${json.seconds} s, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; figures in spec/artifacts/bench.json`);
    if (PROFILE) console.log(`CPU profile of the main AI Gate: ${path.join(OUT, 'prof')} (summarise with node --import tsx spec/bench/profile-summary.ts)`);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    homes.forEach(removeHome);
  }
}

await main();

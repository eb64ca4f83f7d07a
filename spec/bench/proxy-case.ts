/**
 * The relay through an upstream proxy: AI Gate with `upstreamProxy` set to a
 * local tinyproxy (HTTP CONNECT), against the pipe proxy going through the
 * same tinyproxy build and config (one instance each, so each one's tunnels
 * can be counted), both to the bench mock over TLS under a name only the
 * proxies resolve. Keep-alive through the proxy shows as tunnels opened per
 * request: far below one when tunnels are reused.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hostsFile, makeCert, startTinyproxy, type ProxyProcess } from '../_proxies.js';
import { runCell } from './cells.js';
import type { CodexRequest } from './codex-request.js';
import { aigateCli, gatewayHome, removeHome, ROOT, startChild, startGateway, type Measured } from './processes.js';
import type { CellReport } from './report.js';

const NAME = 'bench.test';

export interface ProxyCase {
  cells: CellReport[];
  /** CONNECT tunnels each side's proxy opened, for how many requests. */
  tunnels: { target: string; tunnels: number; requests: number }[];
}

const connects = async (proxy: ProxyProcess) => ((await proxy.log()).match(new RegExp(`CONNECT ${NAME.replace('.', '\\.')}:`, 'g')) ?? []).length;

export async function proxyCase(options: { scale: number; rounds: number; request: CodexRequest }): Promise<ProxyCase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigate-bench-proxy-'));
  const procs: Measured[] = [];
  const proxies: ProxyProcess[] = [];
  let home: NodeJS.ProcessEnv | undefined;
  try {
    const { cert, key } = makeCert(dir, [NAME]);
    const hosts = await hostsFile(dir, [NAME]);
    const mock = await startChild('mock-server', 'mock-tls', undefined, [], { ...process.env, BENCH_TLS_CERT: cert, BENCH_TLS_KEY: key });
    procs.push(mock);
    const upstream = `https://${NAME}:${new URL(mock.url).port}`;
    const [forPipe, forGate] = await Promise.all([startTinyproxy(dir, { bind: '127.0.0.1', hosts }), startTinyproxy(dir, { bind: '127.0.0.1', hosts })]);
    proxies.push(forPipe!, forGate!);
    const trust = { NODE_EXTRA_CA_CERTS: cert };
    const pipe = await startChild('pipe-proxy', 'pipe-via-proxy', upstream, [], { ...process.env, ...trust, BENCH_VIA_PROXY: forPipe!.url });
    procs.push(pipe);
    home = { ...gatewayHome([{ name: 'bench', baseUrl: `${upstream}/v1` }]), ...trust };
    const set = spawnSync(process.execPath, [aigateCli(), 'settings', 'set', 'upstreamProxy', forGate!.url], { cwd: ROOT, env: home });
    if (set.status !== 0) throw new Error(`aigate settings set upstreamProxy failed: ${set.stderr}`);
    const aigate = await startGateway('aigate-via-proxy', home);
    procs.push(aigate);
    const targets = [
      { name: 'pipe', url: `${pipe.url}/v1/responses`, proc: pipe },
      { name: 'aigate', url: `${aigate.url}/ai-router/api/responses`, proc: aigate },
    ];
    const cells: CellReport[] = [];
    for (const c of [
      { shape: 'chatty', concurrency: 1, requests: 300 },
      { shape: 'bulky', concurrency: 32, requests: 2000 },
    ]) {
      const label = `through an HTTP CONNECT proxy (tinyproxy, TLS upstream): ${c.shape}, c=${c.concurrency}`;
      const requests = Math.max(options.rounds, Math.round(c.requests * options.scale));
      const results = await runCell(
        { label, requests, concurrency: c.concurrency, rounds: options.rounds, headers: { 'x-bench-shape': c.shape }, request: options.request, session: (_t, i) => `bench-proxy-${i % 8}` },
        targets,
      );
      cells.push({ label, shape: c.shape, concurrency: c.concurrency, results });
    }
    const served = (name: string) => cells.reduce((n, cell) => n + (cell.results.find((r) => r.target === name)?.requests ?? 0), 0);
    // Requests of the warm-up round are not in the results but did go through the proxy: count them as the CONNECTs do.
    const all = (name: string) => Math.round(served(name) * (1 + 1 / options.rounds));
    return {
      cells,
      tunnels: [
        { target: 'pipe', tunnels: await connects(forPipe!), requests: all('pipe') },
        { target: 'aigate', tunnels: await connects(forGate!), requests: all('aigate') },
      ],
    };
  } finally {
    await Promise.all([...procs.map((p) => p.stop()), ...proxies.map((p) => p.stop())]);
    if (home) removeHome(home);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Scenario 5, hostile input, against a gateway of its own: malformed JSON,
 * invalid UTF-8, decompression bombs, huge headers, oversized bodies, request
 * smuggling, path traversal in account names, backup ids, MCP and skill names,
 * CR/LF in account names, base URLs and keys, non-http(s) base URLs — on the
 * Codex routes and the admin API. Every case must get a 4xx or a closed
 * socket, the process must survive, and nothing under $AIGATE_HOME or
 * $CODEX_HOME may change (stats files excepted: the gateway appends by
 * design). Slow clients (slowloris: headers or a body a byte at a time) are
 * opened when the run starts and must have been cut by the end.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep } from './client.js';
import { hostileCases, request, sendRaw, type RawCase } from './hostile-cases.js';
import { Scenario, type ScenarioResult } from './report.js';
import { startRig, type Rig, type Suite } from './rig.js';
import type { Logs } from './processes.js';

/** sha256 of every file under `dir` (relative path → hash), stats files left out. */
export function treeHashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (rel.startsWith(path.join('aigate', 'data', 'stats'))) continue;
      if (e.isDirectory()) {
        out.set(rel + '/', 'dir');
        walk(p);
      } else out.set(rel, crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

export function treeChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [k, v] of after) if (before.get(k) !== v) changes.push(before.has(k) ? `changed ${k}` : `added ${k}`);
  for (const k of before.keys()) if (!after.has(k)) changes.push(`removed ${k}`);
  return changes;
}

interface SlowClient {
  kind: 'headers' | 'body';
  socket: net.Socket;
  closedAfterMs?: number;
  answer: string;
}

export interface SlowClients {
  rig: Rig;
  clients: SlowClient[];
  started: number;
  fdsBefore: number;
  stop(): void;
}

/** Starts the hostile gateway and opens the slow clients at once: they drip a byte every 2 s. */
export async function startSlowClients(suite: Suite): Promise<SlowClients> {
  const rig = await startRig(suite, 'hostile', ['h1']);
  const port = Number(new URL(rig.serve.url).port);
  const fdsBefore = rig.serve.fds();
  const started = Date.now();
  const clients: SlowClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  for (let i = 0; i < suite.mode.hostile.slowConnections; i++) {
    const kind = i % 2 ? 'body' : 'headers';
    const socket = net.connect(port, '127.0.0.1');
    const client: SlowClient = { kind, socket, answer: '' };
    clients.push(client);
    const target = i % 4 < 2 ? '/ai-router/api/responses' : '/aigate/api/accounts';
    const head = `POST ${target} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\nauthorization: Bearer ${rig.token}\r\ncontent-length: 100000\r\n`;
    socket.on('error', () => undefined);
    socket.on('data', (d) => (client.answer += d.toString('latin1')));
    socket.once('close', () => (client.closedAfterMs = Date.now() - started));
    socket.write(kind === 'headers' ? head.slice(0, 30) : head + '\r\n{');
    let at = 30;
    timers.push(
      setInterval(() => {
        if (socket.destroyed) return;
        socket.write(kind === 'headers' ? (head[at++] ?? 'x') : ' ');
      }, 2_000),
    );
  }
  return {
    rig,
    clients,
    started,
    fdsBefore,
    stop: () => {
      timers.forEach(clearInterval);
      for (const c of clients) c.socket.destroy();
    },
  };
}

/** Runs every case; `ok` when the answer is a 4xx or a closed socket. */
export async function runCases(port: number, cases: RawCase[], logs: Logs, alive: () => boolean): Promise<{ bad: string[]; statuses: Record<string, number> }> {
  const bad: string[] = [];
  const statuses: Record<string, number> = {};
  for (const c of cases) {
    const answer = await sendRaw(port, c.bytes);
    logs.record('hostile', `${c.name} → ${answer.status ?? (answer.closed ? 'closed' : 'no answer')} ${answer.text.slice(0, 600)}`);
    const key = answer.status ? String(answer.status) : answer.closed ? 'closed' : 'timeout';
    statuses[key] = (statuses[key] ?? 0) + 1;
    const fine = (answer.status !== undefined && answer.status >= 400 && answer.status < 500) || (answer.status === undefined && answer.closed);
    if (!fine) bad.push(`${c.name}: ${answer.status ?? (answer.closed ? 'closed' : 'no answer within 10 s')} ${answer.text.split('\r\n\r\n')[1]?.slice(0, 200) ?? ''}`);
    if (!alive()) {
      bad.push(`${c.name}: the gateway died`);
      break;
    }
  }
  return { bad, statuses };
}

export async function hostileScenario(suite: Suite, slow: SlowClients): Promise<ScenarioResult> {
  const s = new Scenario('5. hostile input');
  const { rig } = slow;
  const port = Number(new URL(rig.serve.url).port);
  await sleep(2_500); // the setup's own writes (admin token, conversations) settle first
  const before = treeHashes(path.dirname(rig.home.aigateHome));
  const heapBefore = await rig.serve.heap();
  const cases = hostileCases(port, rig.token, rig.home.aigateHome);
  const { bad, statuses } = await runCases(port, cases, suite.logs, () => rig.serve.alive());
  await sleep(1_500); // any write a case might have caused (health, conversations) would land by now
  const changes = treeChanges(before, treeHashes(path.dirname(rig.home.aigateHome)));
  const heapAfter = await rig.serve.heap();
  s.set('fuzz cases tried', `${cases.length} (answers: ${Object.entries(statuses).map(([k, v]) => `${k}×${v}`).join(', ')})`);
  s.set('files changed under $AIGATE_HOME / $CODEX_HOME', changes.length ? changes.join(', ') : 'none (stats excepted)');
  s.set('heap after GC before / after', `${(heapBefore.heapUsed / 1048576).toFixed(1)} / ${(heapAfter.heapUsed / 1048576).toFixed(1)} MB`);
  for (const b of bad) s.expect(false, b);
  s.expect(changes.length === 0, `the fuzz changed files: ${changes.join(', ')}`);

  // Values cannot break out of their TOML string: a command with a newline and a table header stays one value.
  const inject = await sendRaw(port, request('POST', '/aigate/api/mcp', port, { 'content-type': 'application/json', authorization: `Bearer ${rig.token}` }, JSON.stringify({ name: 'nl', command: 'npx\n[mcp_servers.evil]\ncommand = "sh"' })));
  const config = fs.existsSync(path.join(rig.home.codexHome, 'config.toml')) ? fs.readFileSync(path.join(rig.home.codexHome, 'config.toml'), 'utf8') : '';
  const tables = [...config.matchAll(/^\[([^\]]+)\]/gm)].map((m) => m[1]);
  s.set('TOML injection through an MCP command', `${inject.status}; config.toml tables after: ${tables.join(', ') || 'none'}`);
  s.expect(!tables.includes('mcp_servers.evil'), `a value broke out of its TOML string:\n${config}`);

  // The slow clients, opened when the run began: the gateway's header and request timeouts must have cut them.
  const deadline = slow.started + suite.mode.hostile.slowDeadlineMs;
  while (slow.clients.some((c) => c.closedAfterMs === undefined) && Date.now() < deadline) await sleep(500);
  const cut = (kind: string) => slow.clients.filter((c) => c.kind === kind && c.closedAfterMs !== undefined);
  const span = (list: SlowClient[]) => (list.length ? `${Math.round(Math.min(...list.map((c) => c.closedAfterMs!)) / 1000)}–${Math.round(Math.max(...list.map((c) => c.closedAfterMs!)) / 1000)} s` : '-');
  const headers = slow.clients.filter((c) => c.kind === 'headers');
  const bodies = slow.clients.filter((c) => c.kind === 'body');
  const answered = slow.clients.map((c) => /^HTTP\/1\.1 (\d{3})/.exec(c.answer)?.[1] ?? 'closed');
  s.set('slow clients (a byte every 2 s)', `${headers.length} slow headers: ${cut('headers').length} cut after ${span(cut('headers'))}; ${bodies.length} slow bodies: ${cut('body').length} cut after ${span(cut('body'))}; answers ${[...new Set(answered)].join(', ')}`);
  s.expect(cut('headers').length === headers.length, `${headers.length - cut('headers').length} slow-header connections were still open after ${suite.mode.hostile.slowDeadlineMs / 1000} s`);
  s.expect(cut('body').length === bodies.length, `${bodies.length - cut('body').length} slow-body connections were still open after ${suite.mode.hostile.slowDeadlineMs / 1000} s`);
  slow.stop();
  await sleep(500);
  s.set('fds at start / after the slow clients were cut', `${slow.fdsBefore} / ${rig.serve.fds()}`);
  s.expect(rig.serve.alive(), 'the hostile gateway died');
  await rig.serve.stop();
  return s.done();
}

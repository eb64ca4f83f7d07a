/**
 * Summarises a V8 .cpuprofile (from `BENCH_PROFILE=1 npm run bench`): the top
 * functions by self time, and by inclusive time for AI Gate's own frames — where
 * the gateway's CPU goes, per request.
 *
 *   node --import tsx spec/bench/profile-summary.ts [file.cpuprofile] [requests]
 */
import fs from 'node:fs';
import path from 'node:path';
import { OUT } from './processes.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const dir = path.join(OUT, 'prof');
const file = process.argv[2] || path.join(dir, fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1)!);
const requests = Number(process.argv[3]) || 0;
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
const usPerHit = (profile.endTime - profile.startTime) / profile.samples.length;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: Node) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules\/|dist\/|node:)/, '$1')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let idle = 0;
let total = 0;
for (const n of profile.nodes) {
  const name = label(n);
  if (n.callFrame.functionName === '(idle)') {
    idle += n.hitCount;
    continue;
  }
  total += n.hitCount;
  self.set(name, (self.get(name) ?? 0) + n.hitCount);
  // Each distinct frame on the stack once, so recursion is not counted twice.
  const seen = new Set<string>();
  for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + n.hitCount);
  }
}

const ms = (hits: number) => (hits * usPerHit) / 1000;
const per = (hits: number) => (requests ? ` ${((ms(hits) / requests) * 1000).toFixed(1).padStart(7)} µs/req` : '');
const show = (title: string, map: Map<string, number>, filter: (name: string) => boolean, n: number) => {
  console.log(`\n${title}`);
  for (const [name, hits] of [...map].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}% ${ms(hits).toFixed(0).padStart(6)} ms${per(hits)}  ${name}`);
  }
};
console.log(`${file}\nbusy ${ms(total).toFixed(0)} ms, idle ${ms(idle).toFixed(0)} ms, ${usPerHit.toFixed(0)} µs/sample`);
show('top self time', self, () => true, 30);
show('inclusive time, AI Gate frames', inclusive, (k) => /dist\/cli\/main\.js|artifacts\/bench\/aigate[^/]*\.mjs/.test(k), 30);

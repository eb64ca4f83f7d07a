// `npm run lint` runs this: imports between src/ files run one way (no cycles, however long) and
// between parts only in the directions README's Development section draws.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve('src');

/** What each part may import besides itself; a part is a folder under src/ (state/auth is part of state). */
const ALLOWED = {
  state: [],
  i18n: [],
  proxy: ['state'],
  // The admin API answers in the gateway's one error shape, and nothing else of the gateway.
  admin: ['state', 'proxy/errors.ts'],
  launch: ['state', 'proxy', 'admin'],
  cli: ['state', 'proxy', 'admin', 'launch', 'i18n'],
  tray: ['state', 'proxy', 'admin', 'launch', 'i18n', 'windows/route.ts'],
  // The popovers reach the rest only over HTTP: answer shapes (types) and the shared catalogue.
  windows: ['i18n', 'admin/answers.ts'],
};

const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) files.push(p);
  }
};
walk(SRC);

const rel = (p) => path.relative(SRC, p).split(path.sep).join('/');
const partOf = (p) => (rel(p).includes('/') ? rel(p).split('/')[0] : rel(p).replace(/\.tsx?$/, ''));
const resolve = (from, spec) => {
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base.replace(/\.js$/, '.ts'), base.replace(/\.js$/, '.tsx'), base]) if (files.includes(candidate)) return candidate;
  return undefined;
};

const edges = new Map();
const problems = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const targets = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = resolve(file, m[1]);
    if (!target) continue;
    targets.push(target);
    const [from, to] = [partOf(file), partOf(target)];
    if (from === to) continue;
    const allowed = ALLOWED[from] ?? [];
    if (!allowed.includes(to) && !allowed.includes(rel(target))) problems.push(`${rel(file)} imports ${rel(target)}: ${from} may import only ${allowed.join(', ') || 'nothing outside itself'}`);
  }
  edges.set(file, targets);
}

// Tarjan's strongly connected components: any component of two or more files is an import circle.
let index = 0;
const stack = [];
const meta = new Map();
const visit = (v) => {
  meta.set(v, { index, low: index, on: true });
  index++;
  stack.push(v);
  for (const w of edges.get(v) ?? []) {
    if (!meta.has(w)) {
      visit(w);
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
    } else if (meta.get(w).on) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
  }
  if (meta.get(v).low === meta.get(v).index) {
    const circle = [];
    let w;
    do {
      w = stack.pop();
      meta.get(w).on = false;
      circle.push(rel(w));
    } while (w !== v);
    if (circle.length > 1) problems.push(`import circle: ${circle.reverse().join(' → ')}`);
  }
};
for (const file of files) if (!meta.has(file)) visit(file);

if (problems.length) {
  console.error(`check-imports: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-imports: ${files.length} files, imports run one way`);

/**
 * Turns the bench's figures into tables and into the targets, each
 * shown next to the figure with whether it is met. A report, never an
 * assertion: speed is judged by people reading it, not by a red build.
 */
import type { BigStreamResult } from './big-stream.js';
import type { TargetResult } from './cells.js';
import type { FailoverResult } from './failover-case.js';

export interface CellReport {
  label: string;
  shape: string;
  concurrency: number;
  results: TargetResult[];
}

export interface Check {
  target: string;
  figure: string;
  met: boolean;
}

const f = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));
const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(2)}`;

/** Aligned columns: the first `left` to the left (names), the rest to the right (figures). */
function table(rows: string[][], left = 1): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function cellTable(cell: CellReport): string {
  const by = (name: string) => cell.results.find((r) => r.target === name);
  const direct = by('direct');
  const pipe = by('pipe');
  const rows = [['target', 'ok/n', 'TTFB p50', 'p99', '+TTFB p50', '+p99', 'total p50', 'p99', 'CPU ms/req', 'sys', '×pipe', 'peak RSS MB', '×pipe', 'chunks/resp']];
  for (const r of cell.results) {
    const proxied = r.target !== 'direct' && direct;
    rows.push([
      r.target,
      `${r.requests - r.failed}/${r.requests}`,
      f(r.ttfbP50),
      f(r.ttfbP99),
      proxied ? signed(r.ttfbP50 - direct.ttfbP50) : '',
      proxied ? signed(r.ttfbP99 - direct.ttfbP99) : '',
      f(r.totalP50),
      f(r.totalP99),
      f(r.cpuMsPerRequest, 3),
      f(r.sysMsPerRequest, 3),
      pipe?.cpuMsPerRequest && r.cpuMsPerRequest ? `${f(r.cpuMsPerRequest / pipe.cpuMsPerRequest)}×` : '',
      f(r.peakRssMb, 1),
      pipe?.peakRssMb && r.peakRssMb ? `${f(r.peakRssMb / pipe.peakRssMb)}×` : '',
      f(r.chunksPerResponse, 1),
    ]);
  }
  const bytes = direct ? `, ${(direct.bytesPerResponse / 1024).toFixed(1)} KiB/response` : '';
  return `${cell.label}${bytes} — times in ms\n${table(rows)}`;
}

export function bigStreamTable(results: BigStreamResult[]): string {
  const rows = [['target', 'ok', 'MB', 's', 'RSS start MB', 'peak', 'end', 'growth']];
  for (const r of results) rows.push([r.target, String(r.ok), f(r.megabytes, 0), f(r.seconds), f(r.startRssMb, 1), f(r.peakRssMb, 1), f(r.endRssMb, 1), f(r.growthMb, 1)]);
  return `200 MB stream, RSS sampled every 20 ms\n${table(rows)}`;
}

export function failoverTable(results: FailoverResult[]): string {
  return results
    .map((v) => {
      const rows = [['target', 'ok/n', 'total p50', 'p99', 'CPU ms/req']];
      for (const r of v.results) rows.push([r.target, `${r.requests - r.failed}/${r.requests}`, f(r.totalP50), f(r.totalP99), f(r.cpuMsPerRequest, 3)]);
      return `failover, ${v.variant}: A answered 429 to ${v.hopsSeen} of ${v.failoverRequests} A→B requests — times in ms\n${table(rows)}`;
    })
    .join('\n\n');
}

const byName = (cell: CellReport, name: string) => cell.results.find((r) => r.target === name)!;
const added = (cell: CellReport, name: string) => byName(cell, name).ttfbP50 - byName(cell, 'direct').ttfbP50;
const peak = (cells: CellReport[], name: string) => Math.max(...cells.map((c) => byName(c, name).peakRssMb ?? 0));

/**
 * The figures the relay's cost is judged by, per AI Gate variant: CPU per
 * request against the pipe, added time to first byte for both, peak RSS over
 * the cells and the bulky streams' total time p99.
 */
export function relayCostTable(cells: CellReport[], gateways: string[]): string {
  const rows = [['gateway', 'cell', 'CPU ms/req', 'pipe', 'ratio', '+TTFB p50', 'pipe', 'total p99', 'pipe']];
  for (const g of gateways) {
    for (const cell of cells) {
      const [gw, pipe] = [byName(cell, g), byName(cell, 'pipe')];
      rows.push([g, `${cell.shape} c=${cell.concurrency}`, f(gw.cpuMsPerRequest, 3), f(pipe.cpuMsPerRequest, 3), `${f(gw.cpuMsPerRequest! / pipe.cpuMsPerRequest!)}×`, signed(added(cell, g)), signed(added(cell, 'pipe')), f(gw.totalP99), f(pipe.totalP99)]);
    }
  }
  const rss = gateways.map((g) => `${g} ${f(peak(cells, g), 1)} MB (${f(peak(cells, g) / peak(cells, 'pipe'))}×)`).join(', ');
  return `The relay's own cost — times in ms\n${table(rows, 2)}\npeak RSS over the cells: pipe ${f(peak(cells, 'pipe'), 1)} MB, ${rss}`;
}

/** The targets for each AI Gate variant, met or not. */
export function checks(cells: CellReport[], big: BigStreamResult[], failover: FailoverResult[], gateways: string[]): Check[] {
  const out: Check[] = [];
  const short = (cell: CellReport) => `${cell.shape} c=${cell.concurrency}`;
  for (const g of gateways) {
    for (const cell of cells) {
      const [gw, pipe] = [byName(cell, g), byName(cell, 'pipe')];
      const ratio = gw.cpuMsPerRequest! / pipe.cpuMsPerRequest!;
      out.push({ target: `${g}: CPU/request ≤ 1.3× pipe, ${short(cell)}`, figure: `${f(ratio)}× (${f(gw.cpuMsPerRequest, 3)} vs ${f(pipe.cpuMsPerRequest, 3)} ms)`, met: ratio <= 1.3 });
      const [mine, theirs] = [added(cell, g), added(cell, 'pipe')];
      if (cell.concurrency === 1) {
        out.push({ target: `${g}: added TTFB p50 ≤ pipe's + 0.5 ms, ${short(cell)}`, figure: `${signed(mine)} ms vs pipe ${signed(theirs)} ms (${signed(mine - theirs)})`, met: mine - theirs <= 0.5 });
      } else {
        out.push({ target: `${g}: added TTFB p50 ≤ 1.5× the pipe's, ${short(cell)}`, figure: `${signed(mine)} ms vs pipe ${signed(theirs)} ms`, met: mine <= 1.5 * Math.max(theirs, 0) });
      }
    }
    const rss = peak(cells, g) / peak(cells, 'pipe');
    out.push({ target: `${g}: peak RSS ≤ 1.3× pipe (highest over the cells)`, figure: `${f(rss)}× (${f(peak(cells, g), 1)} vs ${f(peak(cells, 'pipe'), 1)} MB)`, met: rss <= 1.3 });
    const changed = cells.filter((cell) => !byName(cell, g).identical).map(short);
    out.push({ target: `${g}: relays the upstream's bytes unchanged`, figure: changed.length ? `differs in ${changed.join(', ')}` : 'identical in every cell', met: !changed.length });
  }
  const off = gateways.find((g) => g.includes('stats off'));
  if (off) {
    // One ratio per cell is within this machine's noise; their geometric mean is steadier.
    const ratios = cells.map((cell) => byName(cell, 'aigate').cpuMsPerRequest! / byName(cell, off).cpuMsPerRequest!);
    const mean = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / ratios.length);
    out.push({ target: 'stats on vs off: CPU/request ≤ 1.05× (geometric mean of the cells)', figure: `${f(mean)}× (cells: ${ratios.map((r) => f(r)).join(', ')})`, met: mean <= 1.05 });
  }
  for (const b of big.filter((r) => gateways.includes(r.target))) {
    out.push({ target: `${b.target}: RSS flat over a 200 MB stream (growth < 10%)`, figure: `${f(b.startRssMb, 1)} → peak ${f(b.peakRssMb, 1)} → end ${f(b.endRssMb, 1)} MB`, met: b.ok && b.growthMb < b.megabytes / 10 });
  }
  for (const v of failover) {
    const by = (name: string) => v.results.find((r) => r.target === name)!;
    const overB = by('aigate A→B').totalP50 - by('direct B').totalP50;
    const hop = by('aigate A→B').totalP50 - by('aigate B only').totalP50;
    out.push({
      target: `failover ≤ 2 ms p50 over direct-to-B, ${v.withReasoning ? 'reasoning stripped' : 'nothing to strip'}`,
      figure: `${signed(overB)} ms (the hop alone, over AI Gate with only B: ${signed(hop)} ms)`,
      met: overB <= 2 && v.hopsSeen === v.failoverRequests,
    });
  }
  return out;
}

export function checksTable(list: Check[]): string {
  return `Targets — reported, not asserted\n${table([['', 'target', 'measured'], ...list.map((c) => [c.met ? 'MET' : 'MISSED', c.target, c.figure])], 3)}`;
}

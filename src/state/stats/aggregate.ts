import type { RequestRecord } from '../events.js';
import { costUsd, type PriceBook } from './prices.js';
import type { StatLine } from './records.js';

export const GROUPINGS = ['account', 'model', 'day', 'hour'] as const;
export type Grouping = (typeof GROUPINGS)[number];

export interface StatsRow {
  /** Account or model name, or the local day (`2026-03-01`) or hour (`2026-03-01 14:00`). */
  key: string;
  /** Time buckets: the bucket's start, ms since epoch. */
  start?: number;
  requests: number;
  /** Answered 4xx/5xx (a client that left, 499, is not an error), or a stream cut mid-way. */
  errors: number;
  /** Times an account was left for the next one (by account: counted on the account that failed). */
  failovers: number;
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  /** What the priced requests cost, USD (see `prices.ts`). */
  costUsd: number;
  /** The part of `costUsd` used through ChatGPT accounts: what that usage would cost on the API, not a bill. */
  apiEquivalentUsd: number;
  /** Requests with token usage whose model has no price: not counted in `costUsd`, never taken as free. */
  unpricedRequests: number;
  /** Their models, e.g. to say which price to set. */
  unpricedModels: string[];
  bytes: number;
  ttfbP50?: number;
  ttfbP95?: number;
  totalP50?: number;
  totalP95?: number;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
/** Beyond this many hour or day buckets, empty ones are not filled in. */
const MAX_FILLED = 5_000;

/** `30m`, `24h`, `7d`, `2w` or an ISO date → ms since epoch; `undefined` when it is neither. */
export function parseSince(value: string, now: number): number | undefined {
  const m = /^(\d+)\s*([mhdw])$/.exec(value.trim());
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? undefined : at;
}

const pad = (n: number) => String(n).padStart(2, '0');
const dayStart = (at: number) => new Date(at).setHours(0, 0, 0, 0);
const hourStart = (at: number) => new Date(at).setMinutes(0, 0, 0);
const dayKey = (start: number) => {
  const d = new Date(start);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
};
const hourKey = (start: number) => `${dayKey(start)} ${pad(new Date(start).getHours())}:00`;

function emptyRow(key: string, start?: number): StatsRow {
  return {
    key,
    start,
    requests: 0,
    errors: 0,
    failovers: 0,
    inputTokens: 0,
    cachedTokens: 0,
    outputTokens: 0,
    reasoningTokens: 0,
    totalTokens: 0,
    costUsd: 0,
    apiEquivalentUsd: 0,
    unpricedRequests: 0,
    unpricedModels: [],
    bytes: 0,
  };
}

export function isError(r: RequestRecord): boolean {
  if (r.status >= 400 && r.status !== 499) return true;
  const last = r.hops.at(-1);
  return !!last && last.reason === 'stream-cut' && last.account === r.account;
}

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: number[], p: number): number | undefined {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Sums of many small floats drift; rows carry micro-dollars, which is finer than any price. */
const usd = (v: number) => Math.round(v * 1e6) / 1e6;

class Bucket {
  row: StatsRow;
  ttfb: number[] = [];
  total: number[] = [];
  constructor(
    key: string,
    start: number | undefined,
    private readonly book: PriceBook | undefined,
  ) {
    this.row = emptyRow(key, start);
  }
  add(r: RequestRecord): void {
    const row = this.row;
    row.requests++;
    if (isError(r)) row.errors++;
    row.bytes += r.bytes ?? 0;
    if (r.usage) {
      row.inputTokens += r.usage.inputTokens;
      row.cachedTokens += r.usage.cachedTokens;
      row.outputTokens += r.usage.outputTokens;
      row.reasoningTokens += r.usage.reasoningTokens;
      row.totalTokens += r.usage.totalTokens;
      const price = this.book?.price(r.account, r.model);
      if (price) {
        const cost = costUsd(r.usage, price);
        row.costUsd += cost;
        if (this.book!.apiEquivalent(r.account)) row.apiEquivalentUsd += cost;
      } else {
        row.unpricedRequests++;
        const model = r.model ?? '(unknown)';
        if (!row.unpricedModels.includes(model)) row.unpricedModels.push(model);
      }
    }
    if (r.ttfbMs !== undefined) this.ttfb.push(r.ttfbMs);
    this.total.push(r.totalMs);
  }
  finish(): StatsRow {
    const up = (a: number[]) => a.sort((x, y) => x - y);
    up(this.ttfb);
    up(this.total);
    return { ...this.row, costUsd: usd(this.row.costUsd), apiEquivalentUsd: usd(this.row.apiEquivalentUsd), ttfbP50: percentile(this.ttfb, 50), ttfbP95: percentile(this.ttfb, 95), totalP50: percentile(this.total, 50), totalP95: percentile(this.total, 95) };
  }
}

/**
 * Sums request lines into rows per account, model, local day or local hour,
 * plus a total, priced by `book` (without one, every request with usage is
 * unpriced). Day and hour rows are contiguous from `since` to `until`, so a
 * chart shows quiet hours as zero rather than skipping them.
 */
export function aggregate(lines: StatLine[], by: Grouping, range: { since: number; until: number }, book?: PriceBook): { rows: StatsRow[]; total: StatsRow } {
  const buckets = new Map<string, Bucket>();
  const bucket = (key: string, start?: number) => buckets.get(key) ?? buckets.set(key, new Bucket(key, start, book)).get(key)!;
  const total = new Bucket('total', undefined, book);
  const timeKey = (at: number) => {
    const start = by === 'day' ? dayStart(at) : hourStart(at);
    return { key: by === 'day' ? dayKey(start) : hourKey(start), start };
  };
  if (by === 'day' || by === 'hour') {
    const step = (at: number) => (by === 'day' ? new Date(at).setDate(new Date(at).getDate() + 1) : at + 3_600_000);
    let n = 0;
    for (let at = timeKey(range.since).start; at <= range.until && n++ < MAX_FILLED; at = step(at)) {
      const { key, start } = timeKey(at);
      bucket(key, start);
    }
  }
  for (const line of lines) {
    if (line.kind !== 'request') continue;
    total.add(line);
    total.row.failovers += line.hops.length;
    if (by === 'account') {
      bucket(line.account ?? '(none)').add(line);
      for (const hop of line.hops) bucket(hop.account).row.failovers++;
      continue;
    }
    const b = by === 'model' ? bucket(line.model ?? '(unknown)') : (({ key, start }) => bucket(key, start))(timeKey(line.at));
    b.add(line);
    b.row.failovers += line.hops.length;
  }
  const rows = [...buckets.values()].map((b) => b.finish());
  if (by === 'day' || by === 'hour') rows.sort((a, b) => a.start! - b.start!);
  else rows.sort((a, b) => b.requests - a.requests || a.key.localeCompare(b.key));
  return { rows, total: total.finish() };
}

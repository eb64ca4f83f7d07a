import { parseArgs } from 'node:util';
import { quotaLabel } from '../state/account-status.js';
import { aggregate, GROUPINGS, parseSince, type Grouping, type StatsRow } from '../state/stats/aggregate.js';
import { readStats } from '../state/stats/records.js';
import { CliError, type Command } from './context.js';
import { table } from './table.js';

const USAGE = `aigate stats [--since 24h|7d|30m|2w|YYYY-MM-DD] [--by account|model|day|hour] [--json]
  Requests, errors, failovers, tokens and latency (p50/p95) from $AIGATE_HOME/data/stats;
  works whether or not the gateway runs (it may hold the last second of records in memory).`;

const n = (v: number) => v.toLocaleString('en-US');
const ms = (v: number | undefined) => (v === undefined ? '-' : v < 10_000 ? `${Math.round(v)}ms` : `${(v / 1000).toFixed(1)}s`);
const pair = (a: number | undefined, b: number | undefined) => `${ms(a)} / ${ms(b)}`;

function rowCells(r: StatsRow): string[] {
  return [r.key, n(r.requests), n(r.errors), n(r.failovers), n(r.inputTokens), n(r.cachedTokens), n(r.outputTokens), n(r.reasoningTokens), pair(r.ttfbP50, r.ttfbP95), pair(r.totalP50, r.totalP95)];
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'requests, tokens, failovers and latency per account, model, day or hour',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseArgs({ args, options: { since: { type: 'string' }, by: { type: 'string' }, json: { type: 'boolean' } } });
    const now = Date.now();
    const sinceText = values.since ?? '24h';
    const since = parseSince(sinceText, now);
    if (since === undefined) throw new CliError(`--since ${sinceText} is not a duration like 30m, 24h, 7d, 2w or a date like 2026-03-01`, 2);
    const by = (values.by ?? 'account') as Grouping;
    if (!GROUPINGS.includes(by)) throw new CliError(`--by ${by} is not one of ${GROUPINGS.join(', ')}`, 2);

    const lines = await readStats(ctx.paths, since, now);
    const { rows, total } = aggregate(lines, by, { since, until: now });
    const store = by === 'account' ? await ctx.store() : undefined;
    const quota = (name: string) => quotaLabel(store?.data.accounts.find((a) => a.name === name)?.quota, now);

    if (values.json) {
      ctx.json({ since, until: now, by, rows: rows.map((r) => (store ? { ...r, quotaLabel: quota(r.key) } : r)), total });
      return;
    }
    if (!total.requests && !(by === 'day' || by === 'hour')) {
      ctx.out(`No requests since ${new Date(since).toLocaleString()}. Statistics are written while the gateway runs (\`aigate serve\` or the tray).`);
      return;
    }
    const head = [by.toUpperCase(), 'REQUESTS', 'ERRORS', 'FAILOVERS', 'INPUT', 'CACHED', 'OUTPUT', 'REASONING', 'TTFB p50/p95', 'TOTAL p50/p95'];
    const body = rows.map((r) => rowCells(r));
    if (store) {
      head.push('QUOTA');
      body.forEach((cells, i) => cells.push(quota(rows[i]!.key)));
    }
    ctx.out(table([head, ...body, rowCells(total)]));
  },
};

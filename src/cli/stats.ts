import { parseArgs } from 'node:util';
import { formatUsd } from '../i18n/i18n.js';
import { quotaLabel } from '../state/account-status.js';
import { aggregate, GROUPINGS, parseSince, type Grouping, type StatsRow } from '../state/stats/aggregate.js';
import { priceBook } from '../state/stats/prices.js';
import { readStats } from '../state/stats/records.js';
import { CliError, type CliContext, type Command } from './context.js';
import { callAdmin, gatewayOrigin } from './gateway-client.js';
import { table } from './table.js';

const USAGE = `aigate stats [--since 24h|7d|30m|2w|YYYY-MM-DD] [--by account|model|day|hour] [--listen HOST:PORT] [--json]
  Requests, errors, failovers, tokens, cost (USD, from \`aigate prices\`) and latency (p50/p95) from
  $AIGATE_HOME/data/stats. A running gateway (--listen or AIGATE_LISTEN, as for \`aigate serve\`)
  first writes out the records it holds, so a request answered a moment ago is included; without
  one, the files are read as they are.`;

const n = (v: number) => v.toLocaleString('en-US');
const ms = (v: number | undefined) => (v === undefined ? '-' : v < 10_000 ? `${Math.round(v)}ms` : `${(v / 1000).toFixed(1)}s`);
const pair = (a: number | undefined, b: number | undefined) => `${ms(a)} / ${ms(b)}`;

const dollars = (v: number) => formatUsd(v, 'en');

function costCell(r: StatsRow, byAccount: boolean): string {
  let cell = r.requests && !r.costUsd && r.unpricedRequests === r.requests ? '-' : dollars(r.costUsd);
  if (byAccount && r.apiEquivalentUsd > 0 && r.apiEquivalentUsd === r.costUsd) cell += ' (API)';
  if (r.unpricedRequests) cell += ` +${n(r.unpricedRequests)} unpriced`;
  return cell;
}

function rowCells(r: StatsRow, byAccount: boolean): string[] {
  return [
    r.key,
    n(r.requests),
    n(r.errors),
    n(r.failovers),
    n(r.inputTokens),
    n(r.cachedTokens),
    n(r.outputTokens),
    n(r.reasoningTokens),
    costCell(r, byAccount),
    pair(r.ttfbP50, r.ttfbP95),
    pair(r.totalP50, r.totalP95),
  ];
}

/** What the table's cost column needs said: ChatGPT usage is priced as the API would charge it, and which models lack a price. */
function costNotes(total: StatsRow): string[] {
  const notes: string[] = [];
  if (total.apiEquivalentUsd > 0) {
    notes.push(`${dollars(total.apiEquivalentUsd)} of the cost is ChatGPT accounts' usage (API): what it would cost on the OpenAI API; the plans themselves are a flat fee.`);
  }
  if (total.unpricedRequests) {
    notes.push(`${n(total.unpricedRequests)} request(s) have no price (${total.unpricedModels.join(', ')}) and are left out of the cost: set one with \`aigate prices set MODEL --input X --cached Y --output Z\`.`);
  }
  return notes;
}

/** A running gateway writes out what it holds; no gateway (or another home's) leaves the files as they are. */
async function flushGateway(ctx: CliContext, listen: string | undefined): Promise<void> {
  const result = await callAdmin(ctx, gatewayOrigin(ctx, listen), 'POST', 'stats/flush', 2_000);
  if (!result.ok && result.problem === 'other-home') ctx.stderr.write(`aigate: ${result.message}; the last second of its records may be missing here\n`);
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'requests, tokens, cost, failovers and latency per account, model, day or hour',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseArgs({ args, options: { since: { type: 'string' }, by: { type: 'string' }, listen: { type: 'string' }, json: { type: 'boolean' } } });
    const sinceText = values.since ?? '24h';
    if (parseSince(sinceText, 0) === undefined) throw new CliError(`--since ${sinceText} is not a duration like 30m, 24h, 7d, 2w or a date like 2026-03-01`, 2);
    const by = (values.by ?? 'account') as Grouping;
    if (!GROUPINGS.includes(by)) throw new CliError(`--by ${by} is not one of ${GROUPINGS.join(', ')}`, 2);

    await flushGateway(ctx, values.listen);
    const now = Date.now();
    const since = parseSince(sinceText, now)!;
    const [lines, store] = await Promise.all([readStats(ctx.paths, since, now), ctx.store()]);
    const { rows, total } = aggregate(lines, by, { since, until: now }, priceBook(store.data));
    const quota = (name: string) => quotaLabel(store.data.accounts.find((a) => a.name === name)?.quota, now);
    const byAccount = by === 'account';

    if (values.json) {
      ctx.json({ since, until: now, by, rows: rows.map((r) => (byAccount ? { ...r, quotaLabel: quota(r.key) } : r)), total });
      return;
    }
    if (!total.requests && !(by === 'day' || by === 'hour')) {
      ctx.out(`No requests since ${new Date(since).toLocaleString()}. Statistics are written while the gateway runs (\`aigate serve\` or the tray).`);
      return;
    }
    const head = [by.toUpperCase(), 'REQUESTS', 'ERRORS', 'FAILOVERS', 'INPUT', 'CACHED', 'OUTPUT', 'REASONING', 'COST', 'TTFB p50/p95', 'TOTAL p50/p95'];
    const body = rows.map((r) => rowCells(r, byAccount));
    if (byAccount) {
      head.push('QUOTA');
      body.forEach((cells, i) => cells.push(quota(rows[i]!.key)));
    }
    ctx.out(table([head, ...body, rowCells(total, false)]));
    for (const note of costNotes(total)) ctx.out(note);
  },
};

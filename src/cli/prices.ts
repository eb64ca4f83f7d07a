import { parseArgs } from 'node:util';
import { resetPrice, setPrice } from '../state/stats/price-overrides.js';
import { PRICE_TABLE, priceRows, type PriceRow } from '../state/stats/prices.js';
import { CliError, runVerb, type CliContext, type Command } from './context.js';
import { table } from './table.js';

const USAGE = `aigate prices [list] [--json]
aigate prices set MODEL --input X --cached Y --output Z [--account NAME]
aigate prices reset MODEL [--account NAME]
  USD per million tokens for input, cached input and output, by model: the table AI Gate ships
  (OpenAI's API prices, with their sources) and your own, which win; --account sets a price for
  one account only (a provider that prices its own way). Statistics are priced when they are
  read, so a change applies to past requests too.`;

const where = (r: PriceRow) => (r.origin === 'account' ? `yours, ${r.account} only` : r.origin === 'user' ? 'yours' : 'shipped');
const money = (v: number) => `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 6 })}`;

async function list(_args: string[], ctx: CliContext, json: boolean): Promise<void> {
  const store = await ctx.store();
  const rows = priceRows(store.data);
  if (json) {
    ctx.json({ unit: 'USD per million tokens', read: PRICE_TABLE.read, note: PRICE_TABLE.note, prices: rows, unpriced: PRICE_TABLE.unpriced });
    return;
  }
  ctx.out(table([['MODEL', 'INPUT', 'CACHED', 'OUTPUT', 'PRICE'], ...rows.map((r) => [r.model, money(r.input), money(r.cachedInput), money(r.output), where(r)])]));
  ctx.out(`USD per million tokens. Shipped prices: OpenAI API Standard rates read ${PRICE_TABLE.read}; \`aigate prices --json\` lists their sources.`);
  const unpriced = Object.keys(PRICE_TABLE.unpriced).filter((m) => !rows.some((r) => r.model === m));
  ctx.out(`No price (counted as unpriced, not free): ${[...unpriced, 'any model not listed'].join(', ')}.`);
}

async function set(args: string[], ctx: CliContext, json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { input: { type: 'string' }, cached: { type: 'string' }, output: { type: 'string' }, account: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new CliError('usage: aigate prices set MODEL --input X --cached Y --output Z [--account NAME]', 2);
  const store = await ctx.store();
  const done = await setPrice(store, positionals[0]!, { input: values.input, cachedInput: values.cached, output: values.output }, values.account);
  if (json) return ctx.json(done);
  const p = done.price;
  ctx.out(`${done.model}${done.account ? ` on ${done.account}` : ''}: input ${money(p.input)}, cached ${money(p.cachedInput)}, output ${money(p.output)} per million tokens`);
}

async function reset(args: string[], ctx: CliContext, json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { account: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new CliError('usage: aigate prices reset MODEL [--account NAME]', 2);
  const store = await ctx.store();
  const done = await resetPrice(store, positionals[0]!, values.account);
  if (json) return ctx.json(done);
  ctx.out(`${done.model}${done.account ? ` on ${done.account}` : ''}: your price is removed`);
}

export const pricesCommand: Command = {
  name: 'prices',
  summary: 'USD per million tokens by model: the shipped table and your own prices',
  usage: USAGE,
  run: (args, ctx) => runVerb('prices', `Usage: ${USAGE}`, { list, set, reset }, 'list', args, ctx),
};

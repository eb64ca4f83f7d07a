/**
 * What a request costs: the shipped price table (`prices.json`, data with its
 * sources), the user's overrides per model and per account, and the arithmetic.
 *
 * Cost is worked out when statistics are read, not when a request is recorded:
 * a record keeps its token counts, so setting or correcting a price re-prices
 * the history too (and a model that had no price gets one for its past
 * requests), at the price of one multiplication per record per read.
 */
import shipped from './prices.json' with { type: 'json' };
import type { TokenUsage } from '../events.js';
import type { Price, StoreData } from '../schema.js';

export interface ShippedPrice extends Price {
  sources: string[];
}

export const PRICE_TABLE: { unit: string; read: string; note: string; models: Record<string, ShippedPrice>; unpriced: Record<string, string> } = shipped;

/** Where a price came from: the user's for one account, the user's for the model, or the shipped table. */
export type PriceOrigin = 'account' | 'user' | 'shipped';

const SNAPSHOT = /-\d{4}-\d{2}-\d{2}$/;

/** Model ids as keys: lower case; a dated snapshot (`gpt-6.1-sol-2026-09-29`) falls back to its model. */
export const modelKey = (model: string) => model.trim().toLowerCase();

function lookup<T>(table: Record<string, T> | undefined, model: string): T | undefined {
  if (!table) return undefined;
  const key = modelKey(model);
  return table[key] ?? (SNAPSHOT.test(key) ? table[key.replace(SNAPSHOT, '')] : undefined);
}

/** The price that applies to `model` on the account named `account`: the account's own, the user's, then the shipped one. */
export function resolvePrice(data: Readonly<StoreData>, account: string | undefined, model: string | undefined): { price: Price; origin: PriceOrigin } | undefined {
  if (!model) return undefined;
  const own = lookup(data.accounts.find((a) => a.name === account)?.prices, model);
  if (own) return { price: own, origin: 'account' };
  const user = lookup(data.prices, model);
  if (user) return { price: user, origin: 'user' };
  const table = lookup(PRICE_TABLE.models, model);
  return table && { price: table, origin: 'shipped' };
}

/**
 * USD for one request. `inputTokens` includes the cached ones, which have their own price;
 * `outputTokens` already includes reasoning, so reasoning is never added again.
 */
export function costUsd(usage: TokenUsage, price: Price): number {
  const cached = Math.min(usage.cachedTokens, usage.inputTokens);
  return ((usage.inputTokens - cached) * price.input + cached * price.cachedInput + usage.outputTokens * price.output) / 1_000_000;
}

/** What the aggregator asks of prices: a record's price, and whether its account is a ChatGPT plan (its cost is what the API would charge). */
export interface PriceBook {
  price(account: string | undefined, model: string | undefined): Price | undefined;
  apiEquivalent(account: string | undefined): boolean;
}

export function priceBook(data: Readonly<StoreData>): PriceBook {
  const official = new Set(data.accounts.filter((a) => a.kind === 'official').map((a) => a.name));
  // A month of records holds a few (account, model) pairs: each is resolved once.
  const known = new Map<string, Price | undefined>();
  return {
    price: (account, model) => {
      const key = `${account ?? ''}\n${model ?? ''}`;
      if (!known.has(key)) known.set(key, resolvePrice(data, account, model)?.price);
      return known.get(key);
    },
    apiEquivalent: (account) => account !== undefined && official.has(account),
  };
}

export interface PriceRow extends Price {
  model: string;
  origin: PriceOrigin;
  /** For `account` prices. */
  account?: string;
  /** Shipped prices: the pages they were read from. */
  sources?: string[];
}

/** Every price in force: the account overrides, the user's, then the shipped table for models nobody overrode. */
export function priceRows(data: Readonly<StoreData>): PriceRow[] {
  const rows: PriceRow[] = [];
  for (const a of data.accounts) for (const [model, p] of Object.entries(a.prices ?? {})) rows.push({ model, ...pick(p), origin: 'account', account: a.name });
  const user = data.prices ?? {};
  for (const [model, p] of Object.entries(user)) rows.push({ model, ...pick(p), origin: 'user' });
  for (const [model, p] of Object.entries(PRICE_TABLE.models)) if (!(model in user)) rows.push({ model, ...pick(p), origin: 'shipped', sources: p.sources });
  return rows;
}

const pick = (p: Price): Price => ({ input: p.input, cachedInput: p.cachedInput, output: p.output });

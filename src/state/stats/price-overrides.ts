/**
 * The user's own prices, per model and optionally per account, kept in the
 * store over the shipped table. Every value is checked before anything is
 * written: a bad price changes nothing.
 */
import { requireAccount } from '../accounts.js';
import type { Price } from '../schema.js';
import type { Store } from '../store.js';
import { UserError } from '../user-error.js';
import { modelKey, PRICE_TABLE } from './prices.js';

export class PriceError extends UserError {}

// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const BAD_MODEL = /[\s\x00-\x1f\x7f]/;
/** A plain decimal: `2`, `0.125`, `.5`. No signs, exponents, hex or `Infinity`. */
const DECIMAL = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
/** Far above any list price; a larger number is a typo (tokens instead of dollars). */
const MAX_PRICE = 100_000;

export function checkModel(model: string | undefined): string {
  const key = modelKey(model ?? '');
  if (!key || key.length > 100 || BAD_MODEL.test(key)) {
    throw new PriceError(`"${(model ?? '').slice(0, 100)}" is not a model id: give the slug Codex sends, e.g. gpt-6.2-sol (up to 100 characters, no spaces)`);
  }
  return key;
}

const FLAGS: Record<keyof Price, string> = { input: '--input', cachedInput: '--cached', output: '--output' };

/** One price field from text (the CLI) or a number (JSON): finite, not negative, not absurd. */
function amount(field: keyof Price, value: unknown): number {
  const name = FLAGS[field];
  if (value === undefined || value === null || value === '') throw new PriceError(`${name} is missing: give all three of --input, --cached and --output in USD per million tokens`);
  const n = typeof value === 'number' ? value : typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value.trim()) : NaN;
  if (typeof value === 'string' && value.trim().startsWith('-')) throw new PriceError(`${name} ${value} is negative: prices are USD per million tokens, 0 or more`);
  if (!Number.isFinite(n)) throw new PriceError(`${name} ${String(value).slice(0, 40)} is not a number: give USD per million tokens, e.g. ${name} 1.25`);
  if (n < 0) throw new PriceError(`${name} ${n} is negative: prices are USD per million tokens, 0 or more`);
  if (n > MAX_PRICE) throw new PriceError(`${name} ${n} is over ${MAX_PRICE} USD per million tokens: prices are per million tokens, not per token`);
  return n;
}

/** A price as given: text from the command line or numbers from JSON, checked by `checkPrice`. */
export type PriceInput = { [K in keyof Price]?: unknown };

export function checkPrice(input: PriceInput): Price {
  return { input: amount('input', input.input), cachedInput: amount('cachedInput', input.cachedInput), output: amount('output', input.output) };
}

/** Sets the user's price for `model`, for one account when `account` names it. */
export async function setPrice(store: Store, model: string, price: PriceInput, account?: string): Promise<{ model: string; account?: string; price: Price }> {
  const key = checkModel(model);
  const checked = checkPrice(price);
  return store.update((data) => {
    if (account !== undefined) {
      const a = requireAccount(data, account);
      a.prices = { ...a.prices, [key]: checked };
      return { model: key, account: a.name, price: checked };
    }
    data.prices = { ...data.prices, [key]: checked };
    return { model: key, price: checked };
  });
}

/** Removes the user's price for `model` (of one account with `account`); what applies then is the next one down. */
export async function resetPrice(store: Store, model: string, account?: string): Promise<{ model: string; account?: string }> {
  const key = checkModel(model);
  return store.update((data) => {
    const owner = account !== undefined ? requireAccount(data, account) : data;
    if (!owner.prices?.[key]) {
      const where = account !== undefined ? ` for ${account}` : '';
      const shipped = key in PRICE_TABLE.models ? ' (the shipped price applies already)' : '';
      throw new PriceError(`there is no price of your own for ${key}${where} to reset${shipped}; \`aigate prices\` lists them`, 404);
    }
    const { [key]: _gone, ...rest } = owner.prices;
    if (Object.keys(rest).length) owner.prices = rest;
    else delete owner.prices;
    return { model: key, account: account !== undefined ? (owner as { name: string }).name : undefined };
  });
}

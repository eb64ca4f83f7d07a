/**
 * A short history of each account's used percent, from which `forecast.ts`
 * reads how fast it burns. Every response with `x-codex-*` headers (and every
 * usage-endpoint reading) is an observation; the history keeps one sample per
 * few minutes for a few hours, so it stays a few kilobytes per account however
 * busy the gateway is.
 */
import type { AccountRecord, Quota, QuotaSample } from './schema.js';

/** Samples closer together than this collapse into the newest one. */
const SAMPLE_SPACING_MS = 5 * 60_000;
/** Long enough to see a weekly window move by a few percent. */
const SAMPLE_KEEP_MS = 8 * 3_600_000;

/** The history with `quota` added as its newest sample (a reading older than the newest one is ignored). */
export function withSample(history: readonly QuotaSample[] | undefined, quota: Quota): QuotaSample[] {
  const sample: QuotaSample = { at: quota.updatedAt };
  if (quota.primary) sample.primary = quota.primary.usedPercent;
  if (quota.secondary) sample.secondary = quota.secondary.usedPercent;
  if (sample.primary === undefined && sample.secondary === undefined) return [...(history ?? [])];
  return addSample(history, sample);
}

function addSample(history: readonly QuotaSample[] | undefined, sample: QuotaSample): QuotaSample[] {
  const samples = [...(history ?? [])];
  const last = samples.at(-1);
  if (last && sample.at <= last.at) return last.at === sample.at ? [...samples.slice(0, -1), sample] : samples;
  // The newest sample moves forward until it is SAMPLE_SPACING_MS past the one before it, then stays.
  const before = samples.at(-2);
  if (last && before && last.at - before.at < SAMPLE_SPACING_MS) samples[samples.length - 1] = sample;
  else samples.push(sample);
  return samples.filter((s) => s.at >= sample.at - SAMPLE_KEEP_MS);
}

/** Two histories of one account as one (the store's, and the newer one a process holds in memory). */
export function mergeSamples(a: readonly QuotaSample[] | undefined, b: readonly QuotaSample[] | undefined): QuotaSample[] {
  return [...(a ?? []), ...(b ?? [])].sort((x, y) => x.at - y.at).reduce<QuotaSample[]>(addSample, []);
}

/** Puts a reading on an account: its quota when no newer one is held, and a sample in its history (or the given history merged in). */
export function applyQuota(account: AccountRecord, quota: Quota, history?: readonly QuotaSample[]): void {
  if ((account.quota?.updatedAt ?? 0) <= quota.updatedAt) account.quota = quota;
  account.quotaSamples = history ? mergeSamples(account.quotaSamples, history) : withSample(account.quotaSamples, quota);
}

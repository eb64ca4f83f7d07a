/**
 * The shapes the admin API answers with, for its clients (the popovers import
 * them as types only, so nothing of the server is bundled into the pages).
 */
import type { AccountForecast } from '../state/forecast.js';
import type { PoolForecast } from '../state/pool-forecast.js';
import type { StatsRow } from '../state/stats/aggregate.js';

export interface QuotaWindowView {
  usedPercent: number;
  windowMinutes?: number;
  resetsAt?: number;
}

export interface AccountView {
  id: string;
  name: string;
  kind: 'official' | 'third-party';
  enabled: boolean;
  active: boolean;
  baseUrl?: string;
  email?: string;
  plan?: string;
  /** `default` (follows the setting), `direct`, or the proxy URL with its password masked. */
  upstreamProxy: string;
  health: { state: 'ok' | 'cooling' | 'degraded' | 'needs-login'; until?: number; reason?: string };
  quota?: { primary?: QuotaWindowView; secondary?: QuotaWindowView; updatedAt: number };
  status: string;
  quotaLabel: string;
  /** When it runs out at the current pace. */
  forecast: AccountForecast;
}

/** `GET /forecast`: every account's forecast and how long the whole pool lasts, as of `at`. */
export interface ForecastAnswer {
  at: number;
  pool: PoolForecast;
  accounts: ({ account: string } & AccountForecast)[];
}

export type { AccountForecast, PoolForecast };

/** The stats rows as the aggregator makes them. */
export type { StatsRow };

export interface StatsAnswer {
  since: number;
  until: number;
  by: string;
  recording: boolean;
  rows: StatsRow[];
  total: StatsRow;
  failovers?: { at: number; from: string; to?: string; reason: string }[];
  /** Each account's health and quota as of `until`. */
  quota?: { account: string; status: string; quota: AccountView['quota'] | null; quotaLabel: string }[];
}

export interface RecentRecord {
  kind: 'request' | 'failover';
  at: number;
  account?: string;
  model?: string;
  route?: string;
  status?: number;
  ttfbMs?: number;
  totalMs?: number;
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number };
  hops?: { account: string; reason: string }[];
}

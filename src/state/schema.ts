/**
 * The shape of `data/store.json`: accounts and settings, its schema version,
 * the defaults a new install starts from, and one migration per version.
 * `store.ts` reads and writes it; `accounts.ts` changes accounts through it.
 */
import type { ProxyRecord } from './codex/proxy-record.js';
import type { AccountProxy, ProxySetting } from './net/proxy-url.js';

export type AccountKind = 'official' | 'third-party';
export type HealthState = 'ok' | 'cooling' | 'degraded' | 'needs-login';

export interface Health {
  state: HealthState;
  /** ms since epoch when a cooling or degraded account may be tried again. */
  until?: number;
  reason?: string;
  /** Consecutive transient failures, for exponential backoff. */
  failures?: number;
}

export interface QuotaWindow {
  usedPercent: number;
  windowMinutes?: number;
  /** ms since epoch */
  resetsAt?: number;
}

export interface Quota {
  primary?: QuotaWindow;
  secondary?: QuotaWindow;
  updatedAt: number;
}

/** One reading of an account's used percent, kept (a few hours' worth) to measure how fast it burns. */
export interface QuotaSample {
  /** ms since epoch */
  at: number;
  primary?: number;
  secondary?: number;
}

/** USD per million tokens. */
export interface Price {
  input: number;
  cachedInput: number;
  output: number;
}

export interface AccountRecord {
  id: string;
  name: string;
  kind: AccountKind;
  enabled: boolean;
  /** Third-party: the provider's Responses API base, e.g. `https://api.example.com/v1`. */
  baseUrl?: string;
  email?: string;
  plan?: string;
  chatgptAccountId?: string;
  chatgptUserId?: string;
  /** Sealed `Credentials` (AES-256-GCM); never plaintext. */
  secret: string;
  /** Official: when the access token expires (ms since epoch). */
  tokenExpiresAt?: number;
  lastRefresh?: string;
  health: Health;
  quota?: Quota;
  /** Oldest first; see `quota-history.ts`. */
  quotaSamples?: QuotaSample[];
  /** The user's prices for this account only, by model (a provider that prices its own way). */
  prices?: Record<string, Price>;
  addedAt: string;
  /**
   * `local`: the provider refused remote compaction (`compaction_trigger`), so AI Gate compacts for it
   * with a summary request. Absent: remote compaction is tried.
   */
  compaction?: 'local';
  /** How this account reaches its upstream; absent: `settings.upstreamProxy`. A password lives only sealed. */
  upstreamProxy?: AccountProxy;
}

export type Credentials =
  | { apiKey: string }
  | { accessToken: string; refreshToken: string; idToken?: string };

export const SCHEMA_VERSION = 1;

export interface Settings {
  /** Id of the preferred account; new conversations go here while it is healthy. */
  active?: string;
  /** Move a request to the next account when one fails. */
  failover: boolean;
  /** Steer new conversations away from an account whose 5h or weekly use reaches this percent. */
  quotaThreshold?: number;
  statsRetentionDays: number;
  notifications: boolean;
  /** How new conversations pick among healthy accounts. @default 'order' */
  routing?: RoutingMode;
  /** Upstream requests' proxy: absent means `system` (the OS settings in the tray, the environment headless). */
  upstreamProxy?: ProxySetting;
}

/** `order`: the preferred account, then the user's order; `soonest-reset`: the account whose quota window resets first. */
export const ROUTING_MODES = ['order', 'soonest-reset'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

export interface StoreData {
  version: number;
  /** In the user's order: failover walks this list. */
  accounts: AccountRecord[];
  settings: Settings;
  /** What `aigate proxy on` changed in config.toml, so `off` can undo exactly that. */
  proxy?: ProxyRecord;
  /** The user's prices by model, over the shipped table (`stats/prices.json`). */
  prices?: Record<string, Price>;
}

export const defaultData = (): StoreData => ({
  version: SCHEMA_VERSION,
  accounts: [],
  settings: { failover: true, statsRetentionDays: 90, notifications: true },
});

/** One step per schema version: `migrations[n]` turns version n into n + 1. */
export const migrations: Record<number, (data: Record<string, unknown>) => void> = {
  // Version 0 was the unversioned first draft: accounts only.
  0: (data) => {
    data.settings = { ...defaultData().settings, ...(data.settings as object | undefined) };
    data.accounts ??= [];
  },
};


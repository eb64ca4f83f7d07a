import { EventEmitter } from 'node:events';

/** Why a request left an account. */
export type FailoverReason =
  | 'usage-limit'
  | 'rate-limit'
  | 'auth'
  | 'server-error'
  | 'connection'
  | 'timeout'
  | 'stream-cut'
  | 'response-failed';

export interface FailoverEvent {
  at: number;
  from: string;
  to?: string;
  reason: FailoverReason;
  status?: number;
  /** When the account that failed will be usable again (ms since epoch). */
  resetsAt?: number;
}

export interface AccountStateEvent {
  at: number;
  account: string;
  from: string;
  to: string;
  reason?: string;
  until?: number;
}

export interface ExhaustedEvent {
  at: number;
  resetsAt?: number;
}

export interface RequestRecord {
  at: number;
  account?: string;
  model?: string;
  route: string;
  status: number;
  client?: string;
  ttfbMs?: number;
  totalMs: number;
  usage?: TokenUsage;
  /** Response body bytes relayed to the client. */
  bytes?: number;
  hops: { account: string; reason: FailoverReason; status?: number }[];
}

/** An official account's tokens changed hands: the tray notifies on `needs-login`. */
export interface TokenRefreshEvent {
  at: number;
  account: string;
  /** `refreshed`: AI Gate spent its refresh token; `adopted`: it took the tokens Codex refreshed; `needs-login`: sign in again. */
  outcome: 'refreshed' | 'adopted' | 'needs-login';
  /** The new tokens were also written to (or came from) Codex's auth.json. */
  sharedWithCodex?: boolean;
  reason?: string;
}

/** History one account made readable for another (a compaction moving with its conversation). */
export interface HandoverEvent {
  at: number;
  /** The account the history was made readable for. */
  account: string;
  /** The account whose compaction it stands in for, when known. */
  from?: string;
  /**
   * `compacted`: the account compacted that history itself; `summarized`: it wrote a plain-text summary
   * (it cannot compact remotely); `lost`: the history is not kept, a note stands in for it;
   * `local`: the account refused remote compaction, so AI Gate compacts for it from now on.
   */
  outcome: 'compacted' | 'summarized' | 'lost' | 'local';
  ms?: number;
}

/** A request that went through a proxy failed to get an answer (refused, unreachable, credentials). */
export interface ProxyErrorEvent {
  at: number;
  account: string;
  /** The proxy, password masked. */
  proxy: string;
  message: string;
}

export interface TokenUsage {
  inputTokens: number;
  cachedTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  totalTokens: number;
}

export interface GatewayEvents {
  failover: [FailoverEvent];
  'account-state': [AccountStateEvent];
  exhausted: [ExhaustedEvent];
  request: [RequestRecord];
  'accounts-changed': [];
  'token-refresh': [TokenRefreshEvent];
  handover: [HandoverEvent];
  'proxy-error': [ProxyErrorEvent];
}

/** The in-process bus that the tray, statistics and `aigate serve`'s log subscribe to. */
export class EventBus extends EventEmitter<GatewayEvents> {}

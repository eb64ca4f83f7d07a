import type { TokenSource } from '../state/auth/tokens.js';
import type { Clock } from '../state/clock.js';
import type { Compactions } from '../state/compactions.js';
import type { Conversations } from '../state/conversations.js';
import type { EventBus } from '../state/events.js';
import type { Store } from '../state/store.js';
import type { Affinity } from './affinity.js';
import type { AccountHealth } from './health.js';
import type { ProviderUrls } from './providers.js';
import type { Upstream } from './upstream.js';

/** What the gateway's routes run on; the launcher builds it once. */
export interface GatewayDeps {
  store: Store;
  bus: EventBus;
  clock: Clock;
  health: AccountHealth;
  conversations: Conversations;
  /** The history behind remote compaction items, so a compaction can move with its conversation. */
  compactions: Compactions;
  affinity: Affinity;
  tokens: TokenSource;
  urls: ProviderUrls;
  /** Sends each account's requests directly or through its proxy. */
  upstream: Upstream;
  /** No response headers (or, for a stream, no first event) within this long moves on. */
  headersTimeoutMs: number;
}

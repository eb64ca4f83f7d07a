import type Router from '@koa/router';
import type { Clock } from '../state/clock.js';
import type { EventBus } from '../state/events.js';
import type { UpstreamNet } from '../state/net/upstream-net.js';
import type { Paths } from '../state/paths.js';
import type { Vault } from '../state/secrets.js';
import type { StatsRecorder } from '../state/stats/records.js';
import type { Store } from '../state/store.js';

/**
 * What the admin API runs on. The launcher hands it over; the admin API knows
 * nothing else of the gateway it is mounted beside.
 */
export interface AdminHost {
  paths: Paths;
  /** The environment the gateway was launched with (issuer, callback ports for in-app sign-in). */
  env: NodeJS.ProcessEnv;
  store: Store;
  vault: Vault;
  bus: EventBus;
  clock: Clock;
  /** How requests beyond this machine (sign-in, usage) reach it: directly or through the user's proxy. */
  net: UpstreamNet;
  /** Absent when statistics are off (`AIGATE_STATS=off`). */
  stats?: StatsRecorder;
  /** Where the gateway listens, e.g. `http://127.0.0.1:6789`; asked only once it listens. */
  gatewayUrl(): string;
}

/**
 * Each part of AI Gate mounts its own admin endpoints under `/aigate/api`
 * through one of these; `api.ts` owns authentication, the Host check and
 * error shape, and calls every registrar.
 */
export type AdminRoutes = (router: Router, host: AdminHost) => void;

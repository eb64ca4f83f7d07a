import type { Paths } from './paths.js';
import type { Vault } from './secrets.js';
import type { Store } from './store.js';

/** What state operations need: where files live, the store, and the vault for anything secret. */
export interface StateContext {
  paths: Paths;
  store: Store;
  vault: Vault;
}

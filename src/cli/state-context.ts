import type { StateContext } from '../state/context.js';
import { parseListen } from '../proxy/listen-address.js';
import type { CliContext } from './context.js';

/** The `{paths, store, vault}` the state modules take, from the CLI's lazily opened state. */
export async function stateContext(ctx: CliContext): Promise<StateContext> {
  const [store, vault] = await Promise.all([ctx.store(), ctx.vault()]);
  return { paths: ctx.paths, store, vault };
}

/**
 * Where the gateway listens: `--gateway-url`, else `AIGATE_LISTEN` (as `aigate serve` reads it);
 * `undefined` leaves the choice to the state (the last `on`'s URL, else 127.0.0.1:6789).
 */
export function gatewayUrl(ctx: CliContext, flag: string | undefined): string | undefined {
  if (flag) return flag;
  if (!ctx.env.AIGATE_LISTEN) return undefined;
  const { host, port } = parseListen(ctx.env.AIGATE_LISTEN);
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

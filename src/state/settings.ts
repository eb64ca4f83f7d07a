/**
 * The user's settings as the admin API (`PATCH /settings`) and `aigate
 * settings set` change them: one schema, one way to apply it, one view. A
 * change is checked whole before the store is touched, so bad input changes
 * nothing.
 */
import { z } from 'zod';
import { proxyChoice, showProxy } from './net/proxy-url.js';
import { ROUTING_MODES, type StoreData } from './schema.js';
import type { Vault } from './secrets.js';
import type { Store } from './store.js';

export const SettingsChange = z.strictObject({
  failover: z.boolean().optional(),
  quotaThreshold: z.number().min(1).max(100).nullable().optional(),
  notifications: z.boolean().optional(),
  statsRetentionDays: z.number().int().min(1).max(3650).optional(),
  routing: z.enum(ROUTING_MODES, { error: `routing is ${ROUTING_MODES.join(' or ')}` }).optional(),
  upstreamProxy: z.string().min(1, 'use system, direct or a proxy URL').optional(),
});
export type SettingsChange = z.infer<typeof SettingsChange>;

/** Every key `aigate settings` lists, in that order. */
export const SETTING_KEYS = Object.keys(SettingsChange.shape) as (keyof SettingsChange)[];

/** The settings as shown: proxy passwords masked, unset values as their meaning. */
export function settingsView(data: Readonly<StoreData>) {
  const { failover, quotaThreshold, notifications, statsRetentionDays, routing, upstreamProxy } = data.settings;
  return { failover, quotaThreshold: quotaThreshold ?? null, notifications, statsRetentionDays, routing: routing ?? 'order', upstreamProxy: showProxy(upstreamProxy ?? 'system') };
}
export type SettingsView = ReturnType<typeof settingsView>;

/** Applies a validated change; `null` clears a value (quotaThreshold: no threshold). */
export async function applySettings(store: Store, vault: Vault, change: SettingsChange): Promise<SettingsView> {
  // Sealed before the store is touched: a proxy URL that does not parse changes nothing.
  const proxy = change.upstreamProxy === undefined ? undefined : proxyChoice(vault, change.upstreamProxy, 'setting');
  await store.update((data) => {
    const settings = data.settings as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(change)) {
      if (value === undefined) continue;
      if (value === null) delete settings[key];
      else settings[key] = value;
    }
    // `system` is the default: kept as an absent field, like every default.
    if (proxy === 'system') delete data.settings.upstreamProxy;
    else if (proxy) data.settings.upstreamProxy = proxy;
  });
  return settingsView(store.data);
}

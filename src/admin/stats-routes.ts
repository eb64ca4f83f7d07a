import { z } from 'zod';
import { healthLabel, quotaLabel } from '../state/account-status.js';
import { aggregate, GROUPINGS, parseSince } from '../state/stats/aggregate.js';
import { priceBook } from '../state/stats/prices.js';
import { readStats, recentStats } from '../state/stats/records.js';
import type { StatsAnswer } from './answers.js';
import type { AdminRoutes } from './routes.js';
import { readQuery } from './input.js';
import { GatewayError } from '../proxy/errors.js';

const StatsQuery = z.strictObject({
  since: z.string().default('24h'),
  by: z.enum(GROUPINGS).default('account'),
  account: z.string().optional(),
  model: z.string().optional(),
});
const RecentQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/** Aggregates and recent records for the Stats popover; they read the same files `aigate stats` reads. */
export const statsRoutes: AdminRoutes = (router, gw) => {
  router.get('/stats', async (ctx) => {
    const query = readQuery(ctx, StatsQuery);
    const now = gw.clock.now();
    const since = parseSince(query.since, now);
    if (since === undefined) throw new GatewayError(400, `since=${query.since.slice(0, 40)} is not a duration like 30m, 24h, 7d, 2w or an ISO date`, 'invalid_request_error', 'invalid_input');
    await gw.stats?.flush();
    const lines = (await readStats(gw.paths, since, now)).filter(
      (l) => l.kind !== 'request' || ((!query.account || l.account === query.account) && (!query.model || l.model === query.model)),
    );
    const data = gw.store.data;
    const { rows, total } = aggregate(lines, query.by, { since, until: now }, priceBook(data));
    ctx.body = {
      since,
      until: now,
      by: query.by,
      recording: !!gw.stats,
      rows,
      total,
      // The newest failovers, for the timeline; counts are in the rows.
      failovers: lines.filter((l) => l.kind === 'failover').slice(-500),
      quota: data.accounts.map((a) => ({ account: a.name, status: healthLabel(a, now), quota: a.quota ?? null, quotaLabel: quotaLabel(a.quota, now) })),
    } satisfies StatsAnswer;
  });

  // `aigate stats` asks for this first, so a request answered a moment ago is in the files it reads.
  router.post('/stats/flush', async (ctx) => {
    await gw.stats?.flush();
    ctx.body = { flushed: !!gw.stats };
  });

  router.get('/stats/recent', async (ctx) => {
    const { limit } = readQuery(ctx, RecentQuery);
    await gw.stats?.flush();
    ctx.body = { records: await recentStats(gw.paths, limit) };
  });
};

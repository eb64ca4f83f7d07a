import { useEffect, useMemo, useState } from 'preact/hooks';
import { formatUsd } from '../i18n/i18n.js';
import { api, enc, type RecentRecord, type StatsAnswer, type StatsRow } from './api.js';
import { Chart, type ChartSeries } from './chart.js';
import { Empty, ErrorText, Section } from './components.js';
import { Breakdown, Recent } from './stats-tables.js';
import { useLive, useResource } from './hooks.js';
import { useLanguage } from './i18n.js';

const RANGES = { '24h': 'hour', '7d': 'hour', '30d': 'day' } as const;
type Range = keyof typeof RANGES;
type Split = 'account' | 'model';
/** More lines than this make a 340-pixel chart unreadable; the table lists the rest. */
const MAX_SERIES = 5;

interface Series {
  times: number[];
  perKey: { key: string; rows: StatsRow[] }[];
  /** Failover events (who failed, when), for the failover chart by account. */
  failovers: { at: number; from: string }[];
}

/** Failovers per bucket, counted on the account that failed, as the breakdown counts them. */
function failoversOf(series: Series, key: string): number[] {
  const counts = series.times.map(() => 0);
  for (const f of series.failovers) {
    if (f.from !== key) continue;
    let i = series.times.findLastIndex((start) => start <= f.at);
    if (i < 0) i = 0;
    counts[i]!++;
  }
  return counts;
}

/** Requests, tokens, cost and failovers over time per account or model, a breakdown table, and the newest requests. */
export function StatsView() {
  const { t, locale } = useLanguage();
  const [range, setRange] = useState<Range>('24h');
  const [split, setSplit] = useState<Split>('account');
  const summary = useResource<StatsAnswer>(`stats?since=${range}&by=${split}`);
  const recent = useResource<{ records: RecentRecord[] }>('stats/recent?limit=20');
  const [series, setSeries] = useState<Series>();
  const [error, setError] = useState<string>();
  useLive(['request', 'failover'], () => void Promise.all([summary.reload(), recent.reload()]), 2000);

  const keys = useMemo(() => (summary.data?.rows ?? []).filter((r) => r.requests > 0).slice(0, MAX_SERIES).map((r) => r.key), [summary.data]);
  useEffect(() => {
    if (!summary.data) return;
    let stale = false;
    const by = RANGES[range];
    const wanted = keys.length ? keys : [undefined];
    Promise.all(wanted.map((key) => api.get<StatsAnswer>(`stats?since=${range}&by=${by}${key === undefined ? '' : `&${split}=${enc(key)}`}`)))
      .then((answers) => {
        if (stale) return;
        setError(undefined);
        setSeries({
          times: answers[0]!.rows.map((r) => r.start!),
          perKey: answers.map((a, i) => ({ key: wanted[i] ?? t('ui.stats.all'), rows: a.rows })),
          failovers: answers[0]!.failovers ?? [],
        });
      })
      .catch((err: Error) => !stale && setError(err.message));
    return () => {
      stale = true;
    };
  }, [summary.data, keys.join('\n')]);

  const compact = useMemo(() => new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }), [locale]);
  // Hours for a day's range, dates for longer ones: one short line under each tick.
  const tick = useMemo(() => {
    const f = new Intl.DateTimeFormat(locale, RANGES[range] === 'hour' && range === '24h' ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : { month: 'numeric', day: 'numeric' });
    return (at: number) => f.format(at);
  }, [locale, range]);
  // Built once per answer: a new array would make the chart redraw from scratch on every render.
  const charts = useMemo(() => {
    if (!series) return undefined;
    const of = (pick: (r: StatsRow) => number): ChartSeries[] => series.perKey.map(({ key, rows }) => ({ label: key, values: rows.map(pick) }));
    const failovers = split === 'account' && keys.length ? series.perKey.map(({ key }) => ({ label: key, values: failoversOf(series, key) })) : of((r) => r.failovers);
    return { requests: of((r) => r.requests), tokens: of((r) => r.totalTokens), cost: of((r) => r.costUsd), failovers };
  }, [series]);
  const total = summary.data?.total;
  const usd = (n: number) => formatUsd(n, locale);
  // Axis labels are short: "$10", "$0.05".
  const usdAxis = useMemo(() => new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD', notation: 'compact', minimumFractionDigits: 0, maximumFractionDigits: 2 }), [locale]);
  // All of it through ChatGPT accounts: the tile says it is the API equivalent, not a bill.
  const allApi = !!total && total.apiEquivalentUsd > 0 && total.apiEquivalentUsd === total.costUsd;

  return (
    <>
      <div class="toolbar">
        <Segmented<Range> value={range} options={Object.keys(RANGES) as Range[]} label={(r) => t(`ui.stats.range.${r}`)} onChange={setRange} name="range" />
        <Segmented<Split> value={split} options={['account', 'model'] as Split[]} label={(s) => t(`ui.stats.by.${s}`)} onChange={setSplit} name="split" />
      </div>
      <ErrorText error={summary.error?.message ?? error} />
      {summary.data && !summary.data.recording ? <p class="hint">{t('ui.stats.notRecording')}</p> : null}
      {total ? (
        <div class="tiles" data-testid="stats-tiles">
          <Tile label={allApi ? t('ui.stats.costApi') : t('ui.stats.cost')} value={usd(total.costUsd)} testid="tile-cost" />
          <Tile label={t('ui.stats.requests')} value={compact.format(total.requests)} testid="tile-requests" />
          <Tile label={t('ui.stats.tokens')} value={compact.format(total.totalTokens)} testid="tile-tokens" />
          <Tile label={t('ui.stats.failovers')} value={compact.format(total.failovers)} testid="tile-failovers" />
          <Tile label={t('ui.stats.errors')} value={compact.format(total.errors)} testid="tile-errors" />
        </div>
      ) : null}
      {total && total.apiEquivalentUsd > 0 ? (
        <p class="hint" data-testid="cost-api">
          {t('ui.stats.apiEquivalent', { cost: usd(total.apiEquivalentUsd) })}
        </p>
      ) : null}
      {total?.unpricedRequests ? (
        <p class="hint" data-testid="cost-unpriced">
          {t('ui.stats.unpriced', { count: total.unpricedRequests, models: total.unpricedModels.join(', ') })}
        </p>
      ) : null}
      {series && charts ? (
        <div class="charts">
          <Chart title={t('ui.stats.requests')} times={series.times} series={charts.requests} time={tick} format={(n) => compact.format(n)} />
          <Chart title={t('ui.stats.tokens')} times={series.times} series={charts.tokens} time={tick} format={(n) => compact.format(n)} />
          <Chart title={t('ui.stats.cost')} times={series.times} series={charts.cost} time={tick} format={(n) => usdAxis.format(n)} money />
          <Chart title={t('ui.stats.failovers')} times={series.times} series={charts.failovers} time={tick} format={(n) => compact.format(n)} />
        </div>
      ) : null}
      <Section title={t(`ui.stats.by.${split}`)}>
        {summary.data && !summary.data.rows.length ? <Empty>{t('ui.stats.empty')}</Empty> : <Breakdown rows={summary.data?.rows ?? []} format={(n) => compact.format(n)} />}
      </Section>
      <Section title={t('ui.stats.recent')}>
        <Recent records={(recent.data?.records ?? []).filter((r) => r.kind === 'request')} format={(n) => compact.format(n)} />
      </Section>
    </>
  );
}

function Segmented<T extends string>(props: { value: T; options: T[]; name: string; label(option: T): string; onChange(option: T): void }) {
  return (
    <div class="segmented" role="radiogroup" data-name={props.name}>
      {props.options.map((option) => (
        <button key={option} role="radio" aria-checked={props.value === option} data-value={option} onClick={() => props.onChange(option)}>
          {props.label(option)}
        </button>
      ))}
    </div>
  );
}

function Tile(props: { label: string; value: string; testid: string }) {
  return (
    <div class="tile" data-testid={props.testid}>
      <span class="tile-value">{props.value}</span>
      <span class="tile-label">{props.label}</span>
    </div>
  );
}

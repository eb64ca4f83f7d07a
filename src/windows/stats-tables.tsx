import { useMemo } from 'preact/hooks';
import { formatUsd } from '../i18n/i18n.js';
import type { RecentRecord, StatsRow } from './api.js';
import { Empty } from './components.js';
import { useLanguage } from './i18n.js';

/** The breakdown by account or model; the cost column reads "API equivalent" in its title for ChatGPT usage. */
export function Breakdown(props: { rows: StatsRow[]; format(n: number): string }) {
  const { t, locale } = useLanguage();
  return (
    <table class="table breakdown" data-testid="breakdown">
      <thead>
        <tr>
          <th />
          <th class="num">{t('ui.stats.requests')}</th>
          <th class="num">{t('ui.stats.tokens')}</th>
          <th class="num">{t('ui.stats.failoversShort')}</th>
          <th class="num">{t('ui.stats.cost')}</th>
          <th class="num">{t('ui.stats.ttfb')}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.key}>
            <td class="key" title={r.key}>
              {r.key}
            </td>
            <td class="num">{props.format(r.requests)}</td>
            <td class="num">{props.format(r.totalTokens)}</td>
            <td class="num">{props.format(r.failovers)}</td>
            <td class="num cost" data-api={r.apiEquivalentUsd > 0 ? 'true' : undefined} title={[costText(r, locale), r.apiEquivalentUsd > 0 ? t('ui.stats.costApi') : ''].filter(Boolean).join(' · ')}>
              {costText(r, locale)}
            </td>
            <td class="num">{r.ttfbP50 === undefined ? '–' : `${Math.round(r.ttfbP50)} ms`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "–" when nothing in the row has a price; an asterisk when some of it has none. */
function costText(r: StatsRow, locale: Parameters<typeof formatUsd>[1]): string {
  if (r.unpricedRequests && !r.costUsd) return '–';
  return formatUsd(r.costUsd, locale) + (r.unpricedRequests ? '*' : '');
}

/** Newest first, as the API answers. */
export function Recent(props: { records: RecentRecord[]; format(n: number): string }) {
  const { t, locale } = useLanguage();
  const time = useMemo(() => new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }), [locale]);
  if (!props.records.length) return <Empty>{t('ui.stats.noRecent')}</Empty>;
  return (
    <table class="table recent" data-testid="recent">
      <thead>
        <tr>
          <th>{t('ui.stats.time')}</th>
          <th>{t('ui.stats.account')}</th>
          <th>{t('ui.stats.model')}</th>
          <th class="num">{t('ui.stats.status')}</th>
          <th class="num">{t('ui.stats.tokens')}</th>
        </tr>
      </thead>
      <tbody>
        {props.records.map((r, i) => (
          <tr key={`${r.at}-${i}`} data-error={(r.status ?? 0) >= 400 ? 'true' : undefined}>
            <td>{time.format(r.at)}</td>
            <td class="key" title={r.hops?.length ? r.hops.map((h) => `${h.account}: ${h.reason}`).join(', ') : undefined}>
              {r.account ?? '–'}
              {r.hops?.length ? <span class="hops"> ↻{r.hops.length}</span> : null}
            </td>
            <td class="key">{r.model ?? '–'}</td>
            <td class="num">{r.status}</td>
            <td class="num">{r.usage ? props.format(r.usage.totalTokens) : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

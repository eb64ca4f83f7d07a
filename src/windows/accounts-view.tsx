import { useState } from 'preact/hooks';
import { forecastText, kindLabel, poolText, statusText } from '../i18n/labels.js';
import { api, enc, type AccountView, type ForecastAnswer } from './api.js';
import { AddAccount } from './account-add.js';
import { AccountProxy } from './account-proxy.js';
import { Confirm, Empty, ErrorText, QuotaBar, Section, Switch } from './components.js';
import { useAction, useLive, useNow, useResource } from './hooks.js';
import { useLanguage } from './i18n.js';

/** Accounts: order by drag, use, enable/disable, remove, quota bars; adding lives in `AddAccount`. */
export function AccountsView() {
  const { t, locale } = useLanguage();
  const now = useNow();
  const accounts = useResource<AccountView[]>('accounts');
  const forecast = useResource<ForecastAnswer>('forecast');
  const action = useAction();
  const [dragging, setDragging] = useState<string>();
  useLive(['accounts-changed', 'account-state', 'failover', 'exhausted'], () => void Promise.all([accounts.reload(), forecast.reload()]));
  const pool = poolText(forecast.data?.pool, now, locale, t);

  const list = accounts.data ?? [];
  const change = (fn: () => Promise<unknown>) => action.run(async () => {
    await fn();
    await accounts.reload();
  });

  const move = (name: string, to: number) => {
    const names = list.map((a) => a.name).filter((n) => n !== name);
    names.splice(Math.max(0, Math.min(to, names.length)), 0, name);
    if (names.join('\n') === list.map((a) => a.name).join('\n')) return;
    accounts.set(names.map((n) => list.find((a) => a.name === n)!));
    void action.run(async () => accounts.set(await api.post<AccountView[]>('accounts/order', { names }))).then((ok) => {
      if (!ok) void accounts.reload();
    });
  };

  return (
    <>
      <Section title={t('ui.accounts.title')} actions={list.length > 1 ? <span class="hint">{t('ui.accounts.dragHint')}</span> : null}>
        <ErrorText error={accounts.error?.message ?? action.error} />
        {accounts.data && !list.length ? <Empty>{t('ui.accounts.empty')}</Empty> : null}
        <ol class="list accounts" aria-label={t('ui.accounts.title')}>
          {list.map((account, index) => (
            <AccountRow
              key={account.id}
              account={account}
              index={index}
              count={list.length}
              dragging={dragging === account.name}
              onDragStart={() => setDragging(account.name)}
              onDragEnd={() => setDragging(undefined)}
              onDropAt={(name) => move(name, index)}
              onMove={(delta) => move(account.name, index + delta)}
              onUse={() => change(() => api.post(`accounts/${enc(account.name)}/use`))}
              onEnabled={(on) => change(() => api.post(`accounts/${enc(account.name)}/${on ? 'enable' : 'disable'}`))}
              onRemove={() => change(() => api.del(`accounts/${enc(account.name)}`))}
              onProxy={(upstreamProxy) => change(() => api.patch(`accounts/${enc(account.name)}`, { upstreamProxy }))}
              busy={action.busy}
            />
          ))}
        </ol>
        {pool ? (
          <p class="hint forecast" data-testid="pool-forecast">
            {pool}
          </p>
        ) : null}
      </Section>
      <AddAccount onAdded={() => void accounts.reload()} />
    </>
  );
}

interface RowProps {
  account: AccountView;
  index: number;
  count: number;
  dragging: boolean;
  busy: boolean;
  onDragStart(): void;
  onDragEnd(): void;
  onDropAt(name: string): void;
  onMove(delta: number): void;
  onUse(): void;
  onEnabled(on: boolean): void;
  onRemove(): void;
  onProxy(value: string): Promise<boolean>;
}

function AccountRow(props: RowProps) {
  const { t, locale } = useLanguage();
  const now = useNow();
  const [over, setOver] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const { account } = props;
  const state = account.enabled ? account.health.state : 'disabled';
  const { primary, secondary } = account.quota ?? {};
  return (
    <li
      class="account"
      data-name={account.name}
      data-state={state}
      data-active={account.active ? 'true' : undefined}
      data-over={over ? 'true' : undefined}
      data-dragging={props.dragging ? 'true' : undefined}
      draggable
      onDragStart={(e) => {
        e.dataTransfer?.setData('text/plain', account.name);
        props.onDragStart();
      }}
      onDragEnd={props.onDragEnd}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const name = e.dataTransfer?.getData('text/plain');
        if (name && name !== account.name) props.onDropAt(name);
      }}
    >
      <button
        class="handle"
        aria-label={t('ui.accounts.move', { name: account.name })}
        title={t('ui.accounts.move', { name: account.name })}
        onKeyDown={(e) => {
          if (e.key === 'ArrowUp' && props.index > 0) props.onMove(-1);
          else if (e.key === 'ArrowDown' && props.index < props.count - 1) props.onMove(1);
          else return;
          e.preventDefault();
        }}
      >
        ⋮⋮
      </button>
      <div class="account-body">
        <div class="account-head">
          <span class="account-name">{account.name}</span>
          {account.active ? <span class="badge" data-testid="active-badge">{t('ui.accounts.active')}</span> : null}
          <span class="spacer" />
          {!account.active ? (
            <button class="button small" onClick={props.onUse} disabled={props.busy} data-testid="use">
              {t('ui.accounts.use')}
            </button>
          ) : null}
          <Switch checked={account.enabled} label={t(account.enabled ? 'ui.accounts.disable' : 'ui.accounts.enable', { name: account.name })} disabled={props.busy} onChange={props.onEnabled} />
        </div>
        <div class="account-meta">
          <span class="meta-text">
            {kindLabel(account, t)}
            {account.email ? ` · ${account.email}` : ''}
          </span>
          {confirming ? null : (
            <button class="link danger" onClick={() => setConfirming(true)} data-testid="remove">
              {t('ui.accounts.remove')}
            </button>
          )}
        </div>
        <AccountProxy account={account} busy={props.busy} onSave={props.onProxy} />
        {state !== 'ok' || (!primary && !secondary) ? (
          <div class="account-status" data-state={state}>
            {statusText(account, now, locale, t)}
          </div>
        ) : null}
        {primary ? <QuotaBar label={t('ui.quota.fiveHour')} usedPercent={primary.usedPercent} resetsAt={primary.resetsAt} now={now} /> : null}
        {secondary ? <QuotaBar label={t('ui.quota.week')} usedPercent={secondary.usedPercent} resetsAt={secondary.resetsAt} now={now} /> : null}
        {state === 'ok' && forecastText(account.forecast, now, locale, t) ? (
          <div class="hint forecast" data-testid="forecast">
            {forecastText(account.forecast, now, locale, t)}
          </div>
        ) : null}
        {confirming ? (
          <Confirm
            message={t('ui.accounts.removeConfirm', { name: account.name })}
            confirm={t('ui.accounts.remove')}
            danger
            busy={props.busy}
            onCancel={() => setConfirming(false)}
            onConfirm={() => {
              setConfirming(false);
              props.onRemove();
            }}
          />
        ) : null}
      </div>
    </li>
  );
}

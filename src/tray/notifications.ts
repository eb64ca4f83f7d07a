/**
 * What the tray tells the user through OS notifications, decided without
 * Electron: gateway events become texts, a rate limiter turns a storm of
 * failures into one notification, and a setting turns them all off.
 */
import type { Clock } from '../state/clock.js';
import type { AccountStateEvent, EventBus, ExhaustedEvent, FailoverEvent, HandoverEvent } from '../state/events.js';
import { formatResetTime, type Locale, type MessageKey, type Translate } from '../i18n/i18n.js';
import { earliestReset, type TrayAccount } from './menu-model.js';

export interface Notice {
  /** What counts as "the same news" for rate limiting. */
  key: string;
  /** Breaks through the quiet period after another notice (not a repeat of itself). */
  urgent?: boolean;
  title: string;
  body: string;
}

export interface NoticeContext {
  now: number;
  locale: Locale;
  t: Translate;
  accounts: readonly TrayAccount[];
  active?: string;
}

const FIVE_HOURS = 5 * 3600_000;

/** "Switched A → B" / "weekly limit reached, A resets Tue 14:00". No `to` means nowhere left: the exhausted notice says that. */
export function failoverNotice(e: FailoverEvent, ctx: NoticeContext): Notice | undefined {
  if (!e.to) return undefined;
  const { t } = ctx;
  const reason = failoverReason(e, ctx);
  const body = e.resetsAt
    ? t('notify.failover.bodyReset', { reason, name: e.from, time: formatResetTime(e.resetsAt, ctx.now, ctx.locale) })
    : t('notify.failover.body', { reason });
  return { key: `failover:${e.from}`, title: t('notify.failover.title', { from: e.from, to: e.to }), body };
}

function failoverReason(e: FailoverEvent, ctx: NoticeContext): string {
  const { t } = ctx;
  if (e.reason === 'usage-limit') {
    const quota = ctx.accounts.find((a) => a.name === e.from)?.quota;
    if ((quota?.secondary?.usedPercent ?? 0) >= 100) return t('reason.usage-limit.week');
    if ((quota?.primary?.usedPercent ?? 0) >= 100) return t('reason.usage-limit.fiveHour');
    // A reset more than five hours out can only be the weekly window.
    if (e.resetsAt && e.resetsAt - e.at > FIVE_HOURS) return t('reason.usage-limit.week');
    return t('reason.usage-limit');
  }
  return t(`reason.${e.reason}` as MessageKey, { status: e.status ?? '' }).trim();
}

/** Every account is out: says which one comes back first, and when. */
export function exhaustedNotice(e: ExhaustedEvent, ctx: NoticeContext): Notice {
  const { t } = ctx;
  const first = earliestReset(ctx);
  const body = first
    ? t('notify.exhausted.body', { name: first.name, time: formatResetTime(first.at, ctx.now, ctx.locale) })
    : e.resetsAt
      ? t('notify.exhausted.bodyTime', { time: formatResetTime(e.resetsAt, ctx.now, ctx.locale) })
      : t('notify.exhausted.bodyUnknown');
  return { key: 'exhausted', urgent: true, title: t('notify.exhausted.title'), body };
}

/** An account needs sign-in; the preferred account is usable again. Other changes are the menu's business. */
export function accountStateNotice(e: AccountStateEvent, ctx: NoticeContext): Notice | undefined {
  const { t } = ctx;
  if (e.to === 'needs-login') {
    return { key: `needs-login:${e.account}`, urgent: true, title: t('notify.needsLogin.title', { name: e.account }), body: t('notify.needsLogin.body') };
  }
  const account = ctx.accounts.find((a) => a.name === e.account);
  if (e.to === 'ok' && e.from === 'cooling' && account && account.id === ctx.active) {
    return { key: `back:${e.account}`, urgent: true, title: t('notify.back.title', { name: e.account }), body: t('notify.back.body', { name: e.account }) };
  }
  return undefined;
}

/**
 * A conversation moved to an account without the history behind its compaction (AI Gate kept none of it,
 * e.g. after a reinstall): the one hand-over the user should hear of, since the model now knows only the
 * recent turns. Hand-overs that carried the history are the log's business.
 */
export function handoverNotice(e: HandoverEvent, ctx: NoticeContext): Notice | undefined {
  if (e.outcome !== 'lost') return undefined;
  const { t } = ctx;
  const body = e.from ? t('notify.historyLost.body', { from: e.from, name: e.account }) : t('notify.historyLost.bodyUnknown', { name: e.account });
  return { key: `history-lost:${e.account}`, urgent: true, title: t('notify.historyLost.title', { name: e.account }), body };
}

export interface RateLimits {
  /** The same news again within this time is dropped. @default 10 minutes */
  sameKeyMs: number;
  /** Any notice within this time of the last one shown is dropped, unless urgent. @default 60 s */
  anyMs: number;
}

export const DEFAULT_LIMITS: RateLimits = { sameKeyMs: 10 * 60_000, anyMs: 60_000 };

export class RateLimiter {
  private lastByKey = new Map<string, number>();
  private lastAny = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly limits: RateLimits = DEFAULT_LIMITS,
  ) {}

  allow(notice: Notice): boolean {
    const now = this.clock.now();
    if (now - (this.lastByKey.get(notice.key) ?? -Infinity) < this.limits.sameKeyMs) return false;
    if (!notice.urgent && now - this.lastAny < this.limits.anyMs) return false;
    this.lastByKey.set(notice.key, now);
    this.lastAny = now;
    return true;
  }
}

export interface NotifierDeps {
  bus: EventBus;
  clock: Clock;
  /** Read at each event, so language and accounts are current. */
  context(): Omit<NoticeContext, 'now'>;
  /** `store.data.settings.notifications`, read at each event. */
  enabled(): boolean;
  show(notice: Notice): void;
  limits?: RateLimits;
}

/** Subscribes to the bus; returns the function that unsubscribes. */
export function startNotifier(deps: NotifierDeps): () => void {
  const limiter = new RateLimiter(deps.clock, deps.limits);
  const emit = (make: (ctx: NoticeContext) => Notice | undefined) => {
    if (!deps.enabled()) return;
    const notice = make({ ...deps.context(), now: deps.clock.now() });
    if (notice && limiter.allow(notice)) deps.show(notice);
  };
  const onFailover = (e: FailoverEvent) => emit((ctx) => failoverNotice(e, ctx));
  const onExhausted = (e: ExhaustedEvent) => emit((ctx) => exhaustedNotice(e, ctx));
  const onState = (e: AccountStateEvent) => emit((ctx) => accountStateNotice(e, ctx));
  const onHandover = (e: HandoverEvent) => emit((ctx) => handoverNotice(e, ctx));
  deps.bus.on('failover', onFailover).on('exhausted', onExhausted).on('account-state', onState).on('handover', onHandover);
  return () => {
    deps.bus.off('failover', onFailover).off('exhausted', onExhausted).off('account-state', onState).off('handover', onHandover);
  };
}

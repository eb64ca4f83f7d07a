import { Notification } from 'electron';
import { systemClock } from '../state/clock.js';
import { translator } from '../i18n/i18n.js';
import { startNotifier } from './notifications.js';
import type { TrayCore } from './tray-core.js';
import type { Locale } from '../i18n/i18n.js';

/** Gateway events as OS notifications (texts and rate limits in notifications.ts); a click opens Accounts. */
export function setupNotifications(core: TrayCore, locale: () => Locale, onClick: () => void): void {
  if (!core.bus || !Notification.isSupported()) return;
  const { store } = core.ctx;
  startNotifier({
    bus: core.bus,
    clock: systemClock,
    context: () => ({ locale: locale(), t: translator(locale()), accounts: store.data.accounts, active: store.data.settings.active }),
    enabled: () => store.data.settings.notifications,
    show: (notice) => {
      const n = new Notification({ title: notice.title, body: notice.body });
      n.on('click', onClick);
      n.show();
    },
  });
}

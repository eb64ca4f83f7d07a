import { useState } from 'preact/hooks';
import type { AccountView } from './api.js';
import { useLanguage } from './i18n.js';

interface Props {
  account: AccountView;
  busy: boolean;
  /** Saves `default`, `direct` or a proxy URL; resolves false when the API refused it (its error is shown above). */
  onSave(value: string): Promise<boolean>;
}

/**
 * How an account reaches its upstream: the setting (`default`), `direct`, or
 * its own proxy. The API only ever answers the URL with its password masked,
 * so the field starts empty for a URL rather than showing `***` to save back.
 */
export function AccountProxy({ account, busy, onSave }: Props) {
  const { t } = useLanguage();
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState('');
  const current = account.upstreamProxy ?? 'default';
  const shown = current === 'default' ? t('ui.accounts.proxyDefault') : current === 'direct' ? t('ui.accounts.proxyDirect') : current;
  if (!editing) {
    return (
      <div class="account-meta" data-testid="proxy">
        <span class="meta-text">
          {t('ui.accounts.proxy')}: <span data-testid="proxy-value">{shown}</span>
        </span>
        <button
          class="link"
          data-testid="proxy-change"
          onClick={() => {
            setValue(current === 'default' || current === 'direct' ? current : '');
            setEditing(true);
          }}
        >
          {t('ui.accounts.proxyChange')}
        </button>
      </div>
    );
  }
  const save = async (e: Event) => {
    e.preventDefault();
    if (await onSave(value.trim() || 'default')) setEditing(false);
  };
  return (
    <form class="proxy-form" onSubmit={save} data-testid="proxy-form">
      <label class="field">
        <span>{t('ui.accounts.proxyLabel', { name: account.name })}</span>
        <input
          name="upstreamProxy"
          value={value}
          placeholder="default · direct · http://host:3128 · socks5h://user:password@host:1080"
          autocomplete="off"
          spellcheck={false}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
        <span class="hint">{t('ui.accounts.proxyHint')}</span>
      </label>
      <div class="actions">
        <button type="button" class="button small" onClick={() => setEditing(false)}>
          {t('ui.cancel')}
        </button>
        <button type="submit" class="button small primary" disabled={busy} data-testid="proxy-save">
          {t('ui.save')}
        </button>
      </div>
    </form>
  );
}

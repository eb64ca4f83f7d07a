import type { ComponentChildren } from 'preact';
import { formatResetTime } from '../i18n/i18n.js';
import { useLanguage } from './i18n.js';
import { VIEWS, type View } from './route.js';

/** The popover frame: title, the four tabs, and the view below them. */
export function Shell(props: { view: View; onView(view: View): void; children: ComponentChildren }) {
  const { t } = useLanguage();
  return (
    <div class="shell">
      <header class="bar">
        <nav class="tabs" role="tablist" aria-label="AI Gate">
          {VIEWS.map((view) => (
            <button key={view} role="tab" class="tab" aria-selected={props.view === view} data-view={view} onClick={() => props.onView(view)}>
              {t(`ui.tab.${view}`)}
            </button>
          ))}
        </nav>
      </header>
      <main class="content" data-testid={`view-${props.view}`}>
        {props.children}
      </main>
    </div>
  );
}

export function Section(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="section">
      <div class="section-head">
        <h2>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function Switch(props: { checked: boolean; label: string; disabled?: boolean; onChange(checked: boolean): void }) {
  return (
    <label class="switch" title={props.label}>
      <input type="checkbox" role="switch" checked={props.checked} disabled={props.disabled} aria-label={props.label} onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)} />
      <span class="knob" aria-hidden="true" />
    </label>
  );
}

/** A used-percent bar: calm below 70 %, amber to 90 %, red above; the reset time beside it. */
export function QuotaBar(props: { label: string; usedPercent: number; resetsAt?: number; now: number }) {
  const { t, locale } = useLanguage();
  const used = Math.max(0, Math.min(100, props.usedPercent));
  const level = used >= 90 ? 'high' : used >= 70 ? 'mid' : 'low';
  return (
    <div class="quota" data-level={level}>
      <span class="quota-label">{props.label}</span>
      <span class="quota-track" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(used)} aria-label={props.label}>
        <span class="quota-fill" style={{ width: `${used}%` }} />
      </span>
      <span class="quota-value">{Math.round(used)}%</span>
      <span class="quota-reset">{props.resetsAt && props.resetsAt > props.now ? t('ui.quota.resets', { time: formatResetTime(props.resetsAt, props.now, locale) }) : ''}</span>
    </div>
  );
}

export function ErrorText(props: { error?: string }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}

export function Note(props: { children: ComponentChildren; tone?: 'ok' | 'info' }) {
  return (
    <p class={`note ${props.tone ?? 'info'}`} role="status">
      {props.children}
    </p>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/** An inline confirmation: what will happen, then the dangerous button and Cancel. */
export function Confirm(props: { message: ComponentChildren; confirm: string; danger?: boolean; busy?: boolean; onConfirm(): void; onCancel(): void }) {
  const { t } = useLanguage();
  return (
    <div class="confirm" role="dialog" aria-modal="false">
      <div class="confirm-message">{props.message}</div>
      <div class="row-actions">
        <button class="button" onClick={props.onCancel} disabled={props.busy}>
          {t('ui.cancel')}
        </button>
        <button class={`button ${props.danger ? 'danger' : 'primary'}`} onClick={props.onConfirm} disabled={props.busy} data-testid="confirm">
          {props.confirm}
        </button>
      </div>
    </div>
  );
}

/** A labelled text field with its validation message under it. */
export function Field(props: {
  label: string;
  name: string;
  value: string;
  onInput(value: string): void;
  type?: 'text' | 'password' | 'number' | 'url';
  placeholder?: string;
  multiline?: boolean;
  hint?: string;
  error?: string;
}) {
  const id = `field-${props.name}`;
  const onInput = (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value);
  return (
    <div class="field" data-invalid={props.error ? 'true' : undefined}>
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea id={id} name={props.name} value={props.value} placeholder={props.placeholder} rows={3} onInput={onInput} spellcheck={false} />
      ) : (
        // Preact types each input `type` separately; all of ours take the same attributes.
        <input id={id} name={props.name} type={(props.type ?? 'text') as 'text'} value={props.value} placeholder={props.placeholder} onInput={onInput} spellcheck={false} autocomplete="off" />
      )}
      {props.error ? <span class="field-error">{props.error}</span> : props.hint ? <span class="hint">{props.hint}</span> : null}
    </div>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { backupReason } from '../i18n/labels.js';
import { api, enc } from './api.js';
import { Confirm, Empty, ErrorText, Field, Note, Section } from './components.js';
import { useAction, useResource } from './hooks.js';
import { useLanguage } from './i18n.js';

interface Backup {
  id: string;
  createdAt: string;
  reason: string;
  note?: string;
  files?: { name: string; present: boolean }[];
}

interface FileChange {
  name: string;
  change: 'unchanged' | 'modify' | 'create' | 'delete';
  diff?: string;
}

const asList = <T,>(data: unknown, key: string): T[] => (Array.isArray(data) ? data : ((data as Record<string, T[]> | undefined)?.[key] ?? [])) as T[];

/** Snapshots of config.toml, auth.json and AI Gate's store: list, create, and restore after seeing what changes. */
export function BackupsView(props: { restore?: string }) {
  const { t, locale } = useLanguage();
  const backups = useResource<unknown>('backups');
  const create = useAction();
  const [note, setNote] = useState('');
  const [restoring, setRestoring] = useState<string | undefined>(props.restore);
  const [done, setDone] = useState<string>();
  useEffect(() => setRestoring(props.restore), [props.restore]);
  const list = asList<Backup>(backups.data, 'backups');
  const when = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });

  const backUp = (e: Event) => {
    e.preventDefault();
    void create.run(async () => {
      setDone(undefined);
      const made = await api.post<Backup | { backup: Backup }>('backups', note.trim() ? { note: note.trim() } : {});
      const id = 'backup' in made ? made.backup.id : made.id;
      setNote('');
      setDone(t('ui.backups.created', { id }));
      await backups.reload();
    });
  };

  return (
    <>
      <Section title={t('ui.backups.create')}>
        <form class="form inline" onSubmit={backUp} data-testid="backup-form">
          <Field label={t('ui.backups.note')} name="note" value={note} onInput={setNote} placeholder={t('ui.backups.notePlaceholder')} />
          <div class="row-actions">
            <button type="submit" class="button primary" disabled={create.busy} data-testid="backup-create">
              {t('ui.backups.backUpNow')}
            </button>
          </div>
          <ErrorText error={create.error} />
        </form>
        {done ? <Note tone="ok">{done}</Note> : null}
      </Section>
      <Section title={t('ui.backups.title')}>
        <ErrorText error={backups.error?.message} />
        {backups.data && !list.length ? <Empty>{t('ui.backups.empty')}</Empty> : null}
        {list.length ? (
          <ul class="list" aria-label={t('ui.backups.title')}>
            {list.map((b) => (
              <li key={b.id} class="backup" data-id={b.id}>
                <div class="backup-head">
                  <span class="backup-time">{when.format(new Date(b.createdAt))}</span>
                  <span class="tag">{backupReason({ reason: b.reason }, t)}</span>
                  <span class="spacer" />
                  {restoring !== b.id ? (
                    <button class="link" onClick={() => (setDone(undefined), setRestoring(b.id))} data-testid="restore">
                      {t('ui.backups.restore')}
                    </button>
                  ) : null}
                </div>
                <div class="backup-detail">{[b.note, (b.files ?? []).filter((f) => f.present).map((f) => f.name).join(', ')].filter(Boolean).join(' · ')}</div>
                {restoring === b.id ? (
                  <RestorePanel
                    id={b.id}
                    onCancel={() => setRestoring(undefined)}
                    onRestored={(preRestore) => {
                      setRestoring(undefined);
                      setDone(t('ui.backups.restored', { id: preRestore }));
                      void backups.reload();
                    }}
                  />
                ) : null}
              </li>
            ))}
          </ul>
        ) : null}
        {restoring && backups.data && !list.some((b) => b.id === restoring) ? <ErrorText error={t('ui.backups.missing', { id: restoring })} /> : null}
      </Section>
    </>
  );
}

/** Shows file by file what restoring will change (auth.json only as "changes"), then asks. */
function RestorePanel(props: { id: string; onCancel(): void; onRestored(preRestore: string): void }) {
  const { t } = useLanguage();
  const diff = useResource<unknown>(`backups/${enc(props.id)}/diff`);
  const action = useAction();
  const panel = useRef<HTMLDivElement>(null);
  // Opened from the tray's Restore submenu, the backup may be far down the list.
  useEffect(() => panel.current?.scrollIntoView({ block: 'nearest' }), [diff.data]);
  const files = asList<FileChange>(diff.data, 'files');
  const changing = files.filter((f) => f.change !== 'unchanged');
  const restore = () =>
    void action.run(async () => {
      const answer = await api.post<{ preRestore?: { id: string } | string }>(`backups/${enc(props.id)}/restore`, {});
      const pre = typeof answer.preRestore === 'string' ? answer.preRestore : (answer.preRestore?.id ?? '');
      props.onRestored(pre);
    });
  if (diff.error) return <ErrorText error={diff.error.message} />;
  if (!diff.data) return <p class="hint">{t('ui.loading')}</p>;
  const message = (
    <div data-testid="restore-preview">
      <p>{changing.length ? t('ui.backups.willChange', { count: changing.length }) : t('ui.backups.nothingChanges')}</p>
      {changing.map((f) => (
        <div key={f.name}>
          <div class="diff-file">
            {f.name} — {t(`ui.backups.change.${f.change}`)}
          </div>
          {f.diff ? <DiffText text={f.diff} /> : f.change === 'modify' ? <p class="hint">{t('ui.backups.hiddenContents')}</p> : null}
        </div>
      ))}
      <p class="hint">{t('ui.backups.safety')}</p>
      <ErrorText error={action.error} />
    </div>
  );
  return (
    <div ref={panel}>
      <Confirm message={message} confirm={t('ui.backups.restoreConfirm')} danger busy={action.busy} onCancel={props.onCancel} onConfirm={restore} />
    </div>
  );
}

/** A unified diff with its added and removed lines coloured; the two header lines are dropped. */
function DiffText(props: { text: string }) {
  const lines = props.text.split('\n').filter((l) => l && !/^(Index:|={5,}|--- |\+\+\+ |\\ No newline)/.test(l));
  return (
    <pre class="diff">
      {lines.map((line, i) => (
        <span key={i} class={line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : line.startsWith('@@') ? 'hunk' : undefined}>
          {line}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

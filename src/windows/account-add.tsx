import { useEffect, useState } from 'preact/hooks';
import { api, enc, type AccountView } from './api.js';
import { ErrorText, Field, Note, Section } from './components.js';
import { useAction } from './hooks.js';
import { useLanguage } from './i18n.js';

type Mode = 'none' | 'api-key' | 'sign-in';

/** Sign in with ChatGPT, import Codex's own login, or add a third-party Responses API provider. */
export function AddAccount(props: { onAdded(): void }) {
  const { t } = useLanguage();
  const [mode, setMode] = useState<Mode>('none');
  const [done, setDone] = useState<string>();
  const action = useAction();

  const added = (message: string) => {
    setMode('none');
    setDone(message);
    props.onAdded();
  };
  const importCodex = () =>
    action.run(async () => {
      setDone(undefined);
      const account = await api.post<AccountView>('accounts/import', {});
      added(t('ui.add.imported', { name: account.name }));
    });

  return (
    <Section title={t('ui.add.title')}>
      <div class="button-row">
        <button class="button primary wide" onClick={() => (setDone(undefined), setMode('sign-in'))} disabled={action.busy || mode === 'sign-in'} data-testid="sign-in">
          {t('ui.add.signIn')}
        </button>
        <button class="button" onClick={importCodex} disabled={action.busy} data-testid="import">
          {t('ui.add.import')}
        </button>
        <button class="button" onClick={() => (setDone(undefined), setMode(mode === 'api-key' ? 'none' : 'api-key'))} aria-expanded={mode === 'api-key'} data-testid="add-api-key">
          {t('ui.add.apiKey')}
        </button>
      </div>
      <ErrorText error={action.error} />
      {done ? <Note tone="ok">{done}</Note> : null}
      {mode === 'api-key' ? <ApiKeyForm onCancel={() => setMode('none')} onAdded={(name) => added(t('ui.add.added', { name }))} /> : null}
      {mode === 'sign-in' ? <SignIn onCancel={() => setMode('none')} onAdded={(name) => added(t('ui.add.signedIn', { name }))} /> : null}
    </Section>
  );
}

function ApiKeyForm(props: { onCancel(): void; onAdded(name: string): void }) {
  const { t } = useLanguage();
  const [name, setName] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [apiKey, setApiKey] = useState('');
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const account = await api.post<AccountView>('accounts', { name: name.trim(), baseUrl: baseUrl.trim(), apiKey });
      props.onAdded(account.name);
    });
  };
  return (
    <form class="form" onSubmit={submit} data-testid="api-key-form">
      <Field label={t('ui.add.name')} name="name" value={name} onInput={setName} placeholder="relay" />
      <Field label={t('ui.add.baseUrl')} name="baseUrl" value={baseUrl} onInput={setBaseUrl} placeholder="https://api.example.com/v1" hint={t('ui.add.baseUrlHint')} />
      <Field label={t('ui.add.key')} name="apiKey" type="password" value={apiKey} onInput={setApiKey} placeholder="sk-…" hint={t('ui.add.keyHint')} />
      <ErrorText error={action.error} />
      <div class="row-actions">
        <button type="button" class="button" onClick={props.onCancel}>
          {t('ui.cancel')}
        </button>
        <button type="submit" class="button primary" disabled={action.busy}>
          {t('ui.add.submit')}
        </button>
      </div>
    </form>
  );
}

/** `GET accounts/login/:id` (src/admin/login-routes.ts). */
interface LoginState {
  state: 'pending' | 'done' | 'error';
  account?: { name: string };
  error?: string;
}

const POLL_MS = 1500;

/**
 * Starts the ChatGPT sign-in (PKCE) in the gateway, opens its page in the
 * system browser (the tray window hands `window.open` to the OS) and waits
 * for the gateway to say how it went.
 */
function SignIn(props: { onCancel(): void; onAdded(name: string): void }) {
  const { t } = useLanguage();
  const [login, setLogin] = useState<{ id: string; url: string }>();
  const [state, setState] = useState<LoginState>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let stopped = false;
    api
      .post<{ id: string; url: string }>('accounts/login', {})
      .then((started) => {
        if (stopped) return;
        setLogin(started);
        window.open(started.url, '_blank', 'noopener');
      })
      .catch((err: Error) => setError(err.message));
    return () => {
      stopped = true;
    };
  }, []);

  useEffect(() => {
    if (!login) return;
    let timer: ReturnType<typeof setTimeout>;
    let stopped = false;
    let finished = false;
    const poll = async () => {
      try {
        const answer = await api.get<LoginState>(`accounts/login/${enc(login.id)}`);
        if (stopped) return;
        setState(answer);
        if (answer.state === 'done') {
          finished = true;
          return props.onAdded(answer.account?.name ?? '');
        }
        if (answer.state === 'error') {
          finished = true;
          return;
        }
      } catch (err) {
        if (!stopped) setError((err as Error).message);
        return;
      }
      timer = setTimeout(poll, POLL_MS);
    };
    timer = setTimeout(poll, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
      // Closing the form (or the popover) gives up the sign-in, which frees its callback port.
      if (!finished) void api.del(`accounts/login/${enc(login.id)}`).catch(() => undefined);
    };
  }, [login]);

  const failed = state?.state === 'error';
  return (
    <div class="form" data-testid="sign-in-flow">
      {error || failed ? (
        <ErrorText error={error ?? state?.error ?? t('ui.signIn.failed')} />
      ) : (
        <Note>{login ? t('ui.signIn.waiting') : t('ui.signIn.starting')}</Note>
      )}
      {login && !failed ? (
        <p class="hint">
          {t('ui.signIn.noBrowser')}{' '}
          <a href={login.url} target="_blank" rel="noopener noreferrer">
            {t('ui.signIn.openAgain')}
          </a>
        </p>
      ) : null}
      <div class="row-actions">
        <button class="button" onClick={props.onCancel}>
          {t(failed || error ? 'ui.close' : 'ui.cancel')}
        </button>
      </div>
    </div>
  );
}

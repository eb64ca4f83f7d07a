import { useState } from 'preact/hooks';
import { api, enc } from './api.js';
import { ErrorText, Field } from './components.js';
import { fieldErrors } from './field-errors.js';
import { useAction } from './hooks.js';
import { useLanguage } from './i18n.js';
import { patchFrom, specFrom, toDraft, type McpDraft, type McpServer } from './mcp-server.js';

const FIELDS = ['name', 'command', 'args', 'env', 'url', 'bearer_token_env_var', 'startup_timeout_sec', 'tool_timeout_sec'] as const;

/** Add (no `server`) or edit one server; the gateway validates as Codex does and its messages show under the fields. */
export function McpForm(props: { server?: McpServer; onCancel(): void; onSaved(): void }) {
  const { t } = useLanguage();
  const [draft, setDraft] = useState<McpDraft>(() => toDraft(props.server));
  const action = useAction();
  const set = (key: keyof McpDraft) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const errors = fieldErrors(action.error, FIELDS, props.server?.name ?? draft.name.trim());
  // A bad name is refused before any field is looked at; it belongs under the name.
  if (errors.rest && /server name/.test(errors.rest)) [errors.fields.name, errors.rest] = [errors.rest, undefined];
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (props.server) await api.put(`mcp/${enc(props.server.name)}`, patchFrom(props.server, draft));
      else await api.post('mcp', { name: draft.name.trim(), ...specFrom(draft) });
      props.onSaved();
    });
  };
  return (
    <form class="form" onSubmit={submit} data-testid="mcp-form">
      {props.server ? null : <Field label={t('ui.mcp.name')} name="name" value={draft.name} onInput={set('name')} placeholder="docs" error={errors.fields.name} />}
      <div class="segmented" role="radiogroup" aria-label={t('ui.mcp.transport')}>
        {(['stdio', 'http'] as const).map((transport) => (
          <button key={transport} type="button" role="radio" aria-checked={draft.transport === transport} data-value={transport} onClick={() => setDraft((d) => ({ ...d, transport }))}>
            {t(`ui.mcp.transport.${transport}`)}
          </button>
        ))}
      </div>
      <div style={{ height: '8px' }} />
      {draft.transport === 'stdio' ? (
        <>
          <Field label={t('ui.mcp.command')} name="command" value={draft.command} onInput={set('command')} placeholder="npx" error={errors.fields.command} />
          <Field label={t('ui.mcp.args')} name="args" value={draft.args} onInput={set('args')} multiline placeholder={'-y\n@modelcontextprotocol/server-everything'} hint={t('ui.mcp.argsHint')} error={errors.fields.args} />
          <Field
            label={t('ui.mcp.env')}
            name="env"
            value={draft.env}
            onInput={set('env')}
            multiline
            placeholder="API_BASE=https://…"
            hint={props.server?.envNames?.length ? t('ui.mcp.envKept', { names: props.server.envNames.join(', ') }) : t('ui.mcp.envHint')}
            error={errors.fields.env}
          />
        </>
      ) : (
        <>
          <Field label={t('ui.mcp.url')} name="url" value={draft.url} onInput={set('url')} placeholder="https://mcp.example.com/mcp" error={errors.fields.url} />
          <Field label={t('ui.mcp.bearer')} name="bearerTokenEnvVar" value={draft.bearerTokenEnvVar} onInput={set('bearerTokenEnvVar')} placeholder="MCP_TOKEN" hint={t('ui.mcp.bearerHint')} error={errors.fields.bearer_token_env_var} />
        </>
      )}
      <div class="field-row">
        <Field label={t('ui.mcp.startupTimeout')} name="startupTimeoutSec" type="number" value={draft.startupTimeoutSec} onInput={set('startupTimeoutSec')} placeholder="10" error={errors.fields.startup_timeout_sec} />
        <Field label={t('ui.mcp.toolTimeout')} name="toolTimeoutSec" type="number" value={draft.toolTimeoutSec} onInput={set('toolTimeoutSec')} placeholder="60" error={errors.fields.tool_timeout_sec} />
      </div>
      <ErrorText error={errors.rest} />
      <div class="row-actions">
        <button type="button" class="button" onClick={props.onCancel}>
          {t('ui.cancel')}
        </button>
        <button type="submit" class="button primary" disabled={action.busy} data-testid="mcp-save">
          {t(props.server ? 'ui.save' : 'ui.mcp.addSubmit')}
        </button>
      </div>
    </form>
  );
}

import { useState } from 'preact/hooks';
import { api, enc } from './api.js';
import { Confirm, Empty, ErrorText, Section, Switch } from './components.js';
import { useAction, useResource } from './hooks.js';
import { useLanguage } from './i18n.js';
import { McpForm } from './mcp-form.js';
import { serverSummary, toServers, type McpServer } from './mcp-server.js';

/** MCP servers in Codex's config.toml: list, add, edit, enable/disable, remove. */
export function McpView() {
  const { t } = useLanguage();
  const servers = useResource<unknown>('mcp');
  const action = useAction();
  const [editing, setEditing] = useState<McpServer | 'new'>();
  const list = toServers(servers.data);
  const change = (fn: () => Promise<unknown>) =>
    action.run(async () => {
      await fn();
      await servers.reload();
    });

  return (
    <>
      <Section
        title={t('ui.mcp.title')}
        actions={
          editing ? null : (
            <button class="button small" onClick={() => setEditing('new')} data-testid="mcp-add">
              {t('ui.mcp.add')}
            </button>
          )
        }
      >
        <ErrorText error={servers.error?.message ?? action.error} />
        {editing === 'new' ? (
          <McpForm
            onCancel={() => setEditing(undefined)}
            onSaved={() => {
              setEditing(undefined);
              void servers.reload();
            }}
          />
        ) : null}
        {servers.data && !list.length && editing !== 'new' ? <Empty>{t('ui.mcp.empty')}</Empty> : null}
        {list.length ? (
          <ul class="list" aria-label={t('ui.mcp.title')}>
            {list.map((server) =>
              editing !== 'new' && editing?.name === server.name ? (
                <li key={server.name} class="server">
                  <McpForm
                    server={server}
                    onCancel={() => setEditing(undefined)}
                    onSaved={() => {
                      setEditing(undefined);
                      void servers.reload();
                    }}
                  />
                </li>
              ) : (
                <ServerRow
                  key={server.name}
                  server={server}
                  busy={action.busy}
                  onEdit={() => setEditing(server)}
                  onEnabled={(on) => change(() => api.post(`mcp/${enc(server.name)}/${on ? 'enable' : 'disable'}`))}
                  onRemove={() => change(() => api.del(`mcp/${enc(server.name)}`))}
                />
              ),
            )}
          </ul>
        ) : null}
        <p class="hint">{t('ui.mcp.hint')}</p>
      </Section>
    </>
  );
}

function ServerRow(props: { server: McpServer; busy: boolean; onEdit(): void; onEnabled(on: boolean): void; onRemove(): void }) {
  const { t } = useLanguage();
  const [confirming, setConfirming] = useState(false);
  const { server } = props;
  return (
    <li class="server" data-name={server.name} data-enabled={String(server.enabled)}>
      <div class="server-head">
        <span class="server-name">{server.name}</span>
        <span class="tag">{server.transport === 'http' ? 'HTTP' : 'stdio'}</span>
        <span class="spacer" />
        <button class="link" onClick={props.onEdit} data-testid="mcp-edit">
          {t('ui.mcp.edit')}
        </button>
        <button class="link danger" onClick={() => setConfirming(true)} disabled={confirming} data-testid="mcp-remove">
          {t('ui.mcp.remove')}
        </button>
        <Switch checked={server.enabled} disabled={props.busy} label={t(server.enabled ? 'ui.mcp.disable' : 'ui.mcp.enable', { name: server.name })} onChange={props.onEnabled} />
      </div>
      <div class="server-detail" title={serverSummary(server)}>
        {serverSummary(server)}
      </div>
      {confirming ? (
        <Confirm
          message={t('ui.mcp.removeConfirm', { name: server.name })}
          confirm={t('ui.mcp.remove')}
          danger
          busy={props.busy}
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            props.onRemove();
          }}
        />
      ) : null}
    </li>
  );
}

import { isDeepStrictEqual } from 'node:util';
import { ConfigError, parseConfig, sha256 } from './config.js';
import type { ProxyChange, ProxyMode, ProxyRecord } from './proxy-record.js';
import type { Vault } from '../secrets.js';
import { editToml, type TomlEdit } from './toml-edit.js';
import { isTable, valueAtPath, type TomlTable, type TomlValue } from './toml-value.js';

/**
 * The pure half of `aigate proxy on|off`: from the files as they are (and the
 * record of the last `on`), the files as they should be. No I/O here, so
 * `diff` previews exactly what `on`/`off` write.
 */
export const PLACEHOLDER_AUTH = JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: 'aigate-placeholder' }, null, 2) + '\n';
const GATEWAY_PATH = /\/ai-router\/api(\/|$)/;

export interface Situation {
  /** config.toml text; `undefined` when there is none. */
  config: string | undefined;
  /** auth.json bytes; `undefined` when there is none. */
  auth: Buffer | undefined;
  record: ProxyRecord | undefined;
}

export interface Outcome {
  /** `undefined`: no config.toml (it is removed). */
  config: string | undefined;
  auth: Buffer | undefined;
  /** `undefined`: the record is cleared. */
  record: ProxyRecord | undefined;
  mode?: ProxyMode;
}

export interface Detected {
  enabled: boolean;
  mode?: ProxyMode;
  baseUrl?: string;
  /** The active provider id, when config.toml names one. */
  provider?: string;
}

/** Where config.toml sends Codex, judged from the file alone. */
export function detectProxy(data: TomlTable): Detected {
  const mp = typeof data.model_provider === 'string' ? data.model_provider : undefined;
  if (mp && mp !== 'openai') {
    const url = valueAtPath(data, ['model_providers', mp, 'base_url']);
    const on = typeof url === 'string' && GATEWAY_PATH.test(url);
    return { enabled: on, mode: on ? (mp === 'aigate' ? 'provider' : 'third-party') : undefined, baseUrl: typeof url === 'string' ? url : undefined, provider: mp };
  }
  const url = typeof data.openai_base_url === 'string' ? data.openai_base_url : undefined;
  const on = !!url && GATEWAY_PATH.test(url);
  return { enabled: on, mode: on ? 'base-url' : undefined, baseUrl: url, provider: mp };
}

/** A login Codex can use: ChatGPT tokens or a non-empty API key. */
export function usableLogin(auth: Buffer | undefined): boolean {
  if (!auth) return false;
  try {
    const a = JSON.parse(auth.toString('utf8'));
    return !!(a?.tokens?.access_token && a.tokens.refresh_token) || (typeof a?.OPENAI_API_KEY === 'string' && a.OPENAI_API_KEY !== '');
  } catch {
    return false;
  }
}

const seal = (vault: Vault, bytes: Buffer) => vault.seal(bytes.toString('base64'));
const unseal = (vault: Vault, sealed: string) => Buffer.from(vault.open(sealed), 'base64');
const textOf = (c: string | undefined) => c ?? '';

/** The files with AI Gate's proxy settings taken out again. */
export function undoProxy(s: Situation, vault: Vault): { config: string | undefined; auth: Buffer | undefined } {
  const r = s.record;
  let auth = s.auth;
  if (r?.auth && s.auth && sha256(s.auth) === r.auth.placeholderHash) auth = r.auth.sealedBefore ? unseal(vault, r.auth.sealedBefore) : undefined;
  if (s.config === undefined && !r) return { config: undefined, auth };
  const current = textOf(s.config);
  if (r && s.config !== undefined && sha256(current) === r.writtenHash && (r.sealedBefore !== undefined || r.before !== undefined)) {
    // Untouched since AI Gate wrote it: the exact bytes from before `on`.
    if (r.beforeExisted === false) return { config: undefined, auth };
    const before = r.sealedBefore !== undefined ? unseal(vault, r.sealedBefore) : Buffer.from(r.before!, 'base64');
    return { config: before.toString('utf8'), auth };
  }
  if (s.config === undefined) return { config: undefined, auth };
  const data = parseConfig(current);
  return { config: r?.changes ? revertChanges(current, data, r) : removeDetected(current, data), auth };
}

/** Edited since `on`: put back only the values that still hold what AI Gate wrote. */
function revertChanges(text: string, data: TomlTable, r: ProxyRecord): string {
  const edits: TomlEdit[] = [];
  for (const c of r.changes ?? []) {
    if (!isDeepStrictEqual(valueAtPath(data, c.path), c.ours)) continue;
    edits.push(c.had ? { op: 'set', path: c.path, value: c.prior as TomlValue } : { op: 'delete', path: c.path });
  }
  let out = editToml(text, edits);
  const table = r.createdTable && valueAtPath(parseConfig(out), r.createdTable);
  if (r.createdTable && isTable(table) && Object.keys(table).length === 0) out = editToml(out, [{ op: 'delete', path: r.createdTable }]);
  return out;
}

/** No record of `on` (lost, or set by hand): remove what plainly points at the gateway. */
function removeDetected(text: string, data: TomlTable): string {
  const d = detectProxy(data);
  if (!d.enabled) return text;
  if (d.mode === 'base-url') return editToml(text, [{ op: 'delete', path: ['openai_base_url'] }]);
  if (d.mode === 'provider') return editToml(text, [{ op: 'delete', path: ['model_provider'] }, { op: 'delete', path: ['model_providers', 'aigate'] }]);
  throw new ConfigError(
    `config.toml points provider "${d.provider}" at AI Gate, but AI Gate has no record of its original base_url; set it back by hand or restore a snapshot (\`aigate backup list\`)`,
  );
}

export function planOff(s: Situation, vault: Vault): Outcome {
  return { ...undoProxy(s, vault), record: undefined };
}

/** Picks the mode: a user's own provider with a base_url is repointed whatever the flag says. */
function chooseMode(data: TomlTable, wanted: 'base-url' | 'provider' | undefined): { mode: ProxyMode; provider?: string } {
  const mp = typeof data.model_provider === 'string' ? data.model_provider : undefined;
  if (mp && mp !== 'openai' && mp !== 'aigate') {
    if (typeof valueAtPath(data, ['model_providers', mp, 'base_url']) === 'string') return { mode: 'third-party', provider: mp };
    if (wanted !== 'provider') {
      throw new ConfigError(`config.toml selects model_provider "${mp}", which has no base_url AI Gate can repoint (openai_base_url would not affect it); use --mode provider to switch Codex to AI Gate`);
    }
  }
  return { mode: wanted ?? 'base-url' };
}

export function planOn(s: Situation, vault: Vault, options: { mode?: 'base-url' | 'provider'; baseUrl: string; gatewayUrl: string; now?: Date }): Outcome {
  const undone = s.record ? undoProxy(s, vault) : { config: s.config, auth: s.auth };
  const base = textOf(undone.config);
  const data = parseConfig(base);
  const { mode, provider } = chooseMode(data, options.mode);
  const url = options.baseUrl;
  const changes: ProxyChange[] = [];
  const edits: TomlEdit[] = [];
  let createdTable: string[] | undefined;
  const set = (path: string[], value: TomlValue) => {
    const prior = valueAtPath(data, path);
    changes.push({ path, had: prior !== undefined, ...(prior !== undefined ? { prior } : {}), ours: value });
    edits.push({ op: 'set', path, value });
  };
  if (mode === 'base-url') set(['openai_base_url'], url);
  if (mode === 'third-party') set(['model_providers', provider!, 'base_url'], url);
  if (mode === 'provider') {
    set(['model_provider'], 'aigate');
    const table: TomlTable = { name: 'AI Gate', base_url: url, wire_api: 'responses', requires_openai_auth: true };
    if (isTable(valueAtPath(data, ['model_providers', 'aigate']))) for (const [k, v] of Object.entries(table)) set(['model_providers', 'aigate', k], v);
    else {
      createdTable = ['model_providers', 'aigate'];
      for (const [k, v] of Object.entries(table)) changes.push({ path: [...createdTable, k], had: false, ours: v });
      edits.push({ op: 'add-table', path: createdTable, value: table });
    }
  }
  const config = editToml(base, edits);
  // Codex's built-in provider and `requires_openai_auth` need a login; the gateway ignores what it carries.
  const needsLogin = mode !== 'third-party' && !usableLogin(undone.auth);
  const auth = needsLogin ? Buffer.from(PLACEHOLDER_AUTH) : undone.auth;
  const record: ProxyRecord = {
    mode,
    writtenHash: sha256(config),
    at: (options.now ?? new Date()).toISOString(),
    sealedBefore: seal(vault, Buffer.from(base)),
    beforeExisted: undone.config !== undefined,
    gatewayUrl: options.gatewayUrl,
    changes,
    ...(createdTable ? { createdTable } : {}),
    ...(needsLogin ? { auth: { placeholderHash: sha256(PLACEHOLDER_AUTH), ...(undone.auth ? { sealedBefore: seal(vault, undone.auth) } : {}) } } : {}),
  };
  return { config, auth, record, mode };
}

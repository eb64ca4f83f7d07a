import fs from 'node:fs/promises';
import { createBackup, type Manifest } from './backups.js';
import { ConfigError, configDiff, readCodexConfig, sha256, withConfigLock } from './config.js';
import { detectProxy, planOff, planOn, usableLogin, type Outcome, type Situation } from './proxy-plan.js';
import type { ProxyMode, ProxyRecord } from './proxy-record.js';
import type { StateContext } from '../context.js';
import { FILE_MODE, writeFileAtomically } from '../files.js';
import { codexAuthFile, codexConfigFile } from '../paths.js';

export { detectProxy, PLACEHOLDER_AUTH } from './proxy-plan.js';
export type { ProxyMode, ProxyRecord };

/** Where `aigate serve` listens by default; Codex's base_url is this + `/ai-router/api`. */
export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:6789';

export interface ProxyOptions {
  mode?: 'base-url' | 'provider';
  /** The gateway's origin, e.g. `http://127.0.0.1:6789`. */
  gatewayUrl?: string;
}

export interface ProxyStatus {
  enabled: boolean;
  mode?: ProxyMode;
  /** config.toml was edited outside AI Gate since AI Gate last wrote it. */
  conflict: boolean;
  /** What the state means and what to do, in a sentence. */
  note: string;
  configPath: string;
  /** Where Codex sends requests now (when config.toml says). */
  baseUrl?: string;
  /** auth.json holds the placeholder login AI Gate wrote. */
  authPlaceholder: boolean;
}

export interface ProxyPlan {
  action: 'on' | 'off';
  mode?: ProxyMode;
  before: string;
  after: string;
  diff: string;
  /** What happens to auth.json (never its contents). */
  auth: 'unchanged' | 'placeholder written' | 'placeholder removed' | 'restored';
}

export function gatewayBaseUrl(gatewayUrl = DEFAULT_GATEWAY_URL): string {
  let url: URL;
  try {
    url = new URL(gatewayUrl);
  } catch {
    throw new ConfigError(`"${gatewayUrl}" is not a URL; pass the gateway's address like ${DEFAULT_GATEWAY_URL}`, 400);
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search) {
    throw new ConfigError(`the gateway URL must be plain http(s)://host:port, got "${gatewayUrl}"`, 400);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}/ai-router/api`;
}

async function readAuth(ctx: StateContext): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(codexAuthFile(ctx.paths));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The files and the record as they are now; the record read fresh from disk (another process may have written it). */
async function situation(ctx: StateContext, fresh: boolean): Promise<Situation> {
  const config = await readCodexConfig(ctx.paths);
  const record = fresh ? await ctx.store.update((d) => d.proxy) : ctx.store.data.proxy;
  return { config: config.exists ? config.text : undefined, auth: await readAuth(ctx), record: record && structuredClone(record) };
}

export async function proxyStatus(ctx: StateContext): Promise<ProxyStatus> {
  const config = await readCodexConfig(ctx.paths);
  const record = ctx.store.data.proxy;
  const d = detectProxy(config.data);
  const auth = await readAuth(ctx);
  const authPlaceholder = !!record?.auth && !!auth && sha256(auth) === record.auth.placeholderHash;
  const edited = !!record && (!config.exists || config.hash !== record.writtenHash);
  let note: string;
  if (d.enabled && !edited) note = record ? `Codex goes through AI Gate (${d.mode} mode)` : `config.toml points Codex at AI Gate (${d.mode} mode), set outside AI Gate; \`aigate proxy off\` removes it`;
  else if (d.enabled) note = 'on, but config.toml was edited outside AI Gate since; `aigate proxy off` keeps those edits and removes only AI Gate\'s keys';
  else if (record) note = 'AI Gate\'s settings were removed from config.toml outside AI Gate; run `aigate proxy on` to point Codex at the gateway again, or `aigate proxy off` to forget them';
  else note = d.provider && d.provider !== 'openai' ? `off: Codex talks to provider "${d.provider}" directly` : 'off: Codex talks to OpenAI directly';
  if (d.enabled && d.mode !== 'third-party' && !usableLogin(auth)) note += '; auth.json has no usable login, so Codex will refuse to start — run `aigate proxy on` again to write a placeholder';
  return { enabled: d.enabled, mode: d.mode, conflict: edited, note, configPath: config.path, baseUrl: d.baseUrl, authPlaceholder };
}

function outcomeFor(ctx: StateContext, s: Situation, action: 'on' | 'off', opts: ProxyOptions): Outcome {
  if (action === 'off') return planOff(s, ctx.vault);
  const gatewayUrl = opts.gatewayUrl ?? s.record?.gatewayUrl ?? DEFAULT_GATEWAY_URL;
  return planOn(s, ctx.vault, { mode: opts.mode, gatewayUrl, baseUrl: gatewayBaseUrl(gatewayUrl) });
}

function authNote(before: Buffer | undefined, after: Buffer | undefined, record: ProxyRecord | undefined): ProxyPlan['auth'] {
  if (before === after || (before && after && before.equals(after))) return 'unchanged';
  if (after && record?.auth && sha256(after) === record.auth.placeholderHash) return 'placeholder written';
  return after ? 'restored' : 'placeholder removed';
}

/** What `on`/`off` would write, changing nothing. */
export async function proxyPlan(ctx: StateContext, action: 'on' | 'off', opts: ProxyOptions = {}): Promise<ProxyPlan> {
  const s = await situation(ctx, false);
  const o = outcomeFor(ctx, s, action, opts);
  const before = s.config ?? '';
  const after = o.config ?? '';
  return { action, mode: o.mode, before, after, diff: configDiff(before, after), auth: authNote(s.auth, o.auth, o.record) };
}

export interface ProxyResult extends ProxyPlan {
  changed: boolean;
  backup?: Manifest;
  status: ProxyStatus;
}

async function execute(ctx: StateContext, action: 'on' | 'off', opts: ProxyOptions): Promise<ProxyResult> {
  const result = await withConfigLock(ctx.paths, async () => {
    const s = await situation(ctx, true);
    const o = outcomeFor(ctx, s, action, opts);
    const configChanged = o.config !== s.config;
    const authChanged = !(o.auth === s.auth || (o.auth && s.auth && o.auth.equals(s.auth)));
    const plan = { action, mode: o.mode, before: s.config ?? '', after: o.config ?? '', diff: configDiff(s.config ?? '', o.config ?? ''), auth: authNote(s.auth, o.auth, o.record) };
    let backup: Manifest | undefined;
    if (configChanged || authChanged) {
      backup = await createBackup(ctx, { reason: action === 'on' ? 'proxy-on' : 'proxy-off' });
      const configFile = codexConfigFile(ctx.paths);
      if (o.config === undefined) await fs.rm(configFile, { force: true });
      else if (configChanged) await writeFileAtomically(configFile, o.config);
      if (authChanged) {
        if (o.auth) await writeFileAtomically(codexAuthFile(ctx.paths), o.auth, { mode: FILE_MODE });
        else await fs.rm(codexAuthFile(ctx.paths), { force: true });
      }
    }
    // An `on` that changes nothing keeps its record (its "before" is still what to restore), unless the
    // user edited the file since: then the record takes in their edits and the conflict is settled.
    const settle = !s.record || s.record.writtenHash !== o.record?.writtenHash || s.record.mode !== o.record.mode;
    if (configChanged || authChanged || (action === 'on' ? settle : !!s.record)) {
      await ctx.store.update((d) => {
        if (o.record) d.proxy = o.record;
        else delete d.proxy;
      });
    }
    return { ...plan, changed: configChanged || authChanged, backup };
  });
  return { ...result, status: await proxyStatus(ctx) };
}

/** Points Codex at the gateway (see ProxyMode); a backup first; refused if config.toml does not parse. */
export function proxyOn(ctx: StateContext, opts: ProxyOptions = {}): Promise<ProxyResult> {
  return execute(ctx, 'on', opts);
}

/** Undoes `on`: the exact earlier bytes when config.toml is untouched since, else only AI Gate's keys. */
export function proxyOff(ctx: StateContext): Promise<ProxyResult> {
  return execute(ctx, 'off', {});
}

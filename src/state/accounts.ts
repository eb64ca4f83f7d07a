import crypto from 'node:crypto';
import type { Store } from './store.js';
import type { Vault } from './secrets.js';
import { chatgptClaims, loginClaims } from './auth/jwt.js';
import { UserError } from './user-error.js';
import { proxyChoice, showProxy, urlOrNothing, type AccountProxy } from './net/proxy-url.js';
import type { AccountRecord, Credentials, StoreData } from './schema.js';

export class AccountError extends UserError {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what these refuse
const CONTROL = /[\s\x00-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ONLY = /[\x00-\x1f\x7f]/g;

export function checkName(name: string): string {
  if (!NAME.test(name)) {
    throw new AccountError(
      `"${printable(name)}" is not a usable account name: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  return name;
}

/** A third-party base URL: http(s) only, no credentials, no query or fragment, no control characters. */
export function checkBaseUrl(input: string): string {
  const url = urlOrNothing(input);
  if (!url) throw new AccountError(`"${printable(input)}" is not a URL; give the provider's Responses API base, e.g. https://api.example.com/v1`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AccountError(`base URL must be http:// or https://, not ${url.protocol}`);
  }
  if (url.username || url.password) throw new AccountError('base URL must not carry a user name or password; pass the key on stdin instead');
  if (url.search || url.hash) throw new AccountError('base URL must not have a query or fragment');
  return url.toString().replace(/\/+$/, '');
}

export function checkApiKey(key: string): string {
  const trimmed = key.trim();
  if (!trimmed) throw new AccountError('the API key is empty');
  if (CONTROL.test(trimmed)) throw new AccountError('the API key contains whitespace or control characters');
  return trimmed;
}

function printable(s: string): string {
  return s.replace(CONTROL_ONLY, '?').slice(0, 80);
}

export function findAccount(data: Readonly<StoreData>, nameOrId: string): AccountRecord | undefined {
  return data.accounts.find((a) => a.name === nameOrId) ?? data.accounts.find((a) => a.id === nameOrId);
}

export function requireAccount(data: Readonly<StoreData>, name: string): AccountRecord {
  const account = findAccount(data, name);
  if (!account) {
    const names = data.accounts.map((a) => a.name).join(', ') || 'none yet';
    throw new AccountError(`no account named "${printable(name)}" (accounts: ${names})`, 404);
  }
  return account;
}

function uniqueName(data: StoreData, base: string): string {
  let name = base;
  for (let i = 2; data.accounts.some((a) => a.name === name); i++) name = `${base}-${i}`;
  return name;
}

function newRecord(fields: Omit<AccountRecord, 'id' | 'enabled' | 'health' | 'addedAt'>): AccountRecord {
  return {
    id: crypto.randomBytes(6).toString('hex'),
    enabled: true,
    health: { state: 'ok' },
    addedAt: new Date().toISOString(),
    ...fields,
  };
}

/** The first account added becomes the active one. */
function insert(data: StoreData, record: AccountRecord): AccountRecord {
  data.accounts.push(record);
  data.settings.active ??= record.id;
  return record;
}

export async function addThirdParty(
  store: Store,
  vault: Vault,
  input: { name: string; baseUrl: string; apiKey: string },
): Promise<AccountRecord> {
  const name = checkName(input.name);
  const baseUrl = checkBaseUrl(input.baseUrl);
  const secret = vault.sealJson({ apiKey: checkApiKey(input.apiKey) } satisfies Credentials);
  return store.update((data) => {
    if (data.accounts.some((a) => a.name === name)) throw new AccountError(`an account named "${name}" exists already; pick another name or remove it first`, 409);
    return insert(data, newRecord({ name, kind: 'third-party', baseUrl, secret }));
  });
}

export interface OfficialTokens {
  accessToken: string;
  refreshToken: string;
  idToken?: string;
  /** The ChatGPT account id as Codex stores it in auth.json (`tokens.account_id`). */
  accountId?: string;
  lastRefresh?: string;
}

/**
 * Adds an official ChatGPT account, or updates the tokens of the one already
 * stored for the same ChatGPT account and user (re-importing is not a duplicate).
 */
export async function upsertOfficial(
  store: Store,
  vault: Vault,
  tokens: OfficialTokens,
  name?: string,
): Promise<{ account: AccountRecord; created: boolean }> {
  const claims = loginClaims(tokens.accessToken, tokens.idToken);
  const accountId = tokens.accountId ?? claims.accountId;
  if (!accountId) throw new AccountError('these tokens carry no ChatGPT account id; sign in with ChatGPT again');
  const access = chatgptClaims(tokens.accessToken);
  const secret = vault.sealJson({
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    idToken: tokens.idToken,
  } satisfies Credentials);
  const fields = {
    email: claims.email,
    plan: claims.plan,
    chatgptAccountId: accountId,
    chatgptUserId: claims.userId,
    secret,
    tokenExpiresAt: access.exp ? access.exp * 1000 : undefined,
    lastRefresh: tokens.lastRefresh ?? new Date().toISOString(),
  };
  if (name !== undefined) checkName(name);
  return store.update((data) => {
    const existing = data.accounts.find(
      (a) => a.kind === 'official' && a.chatgptAccountId === accountId && (!a.chatgptUserId || !fields.chatgptUserId || a.chatgptUserId === fields.chatgptUserId),
    );
    if (existing) {
      Object.assign(existing, stripUndefined(fields));
      if (existing.health.state === 'needs-login') existing.health = { state: 'ok' };
      return { account: existing, created: false };
    }
    if (name !== undefined && data.accounts.some((a) => a.name === name)) {
      throw new AccountError(`an account named "${name}" exists already; pick another name`, 409);
    }
    const base = name ?? (fields.email?.split('@')[0]?.replace(/[^A-Za-z0-9._-]/g, '-') || 'chatgpt');
    const record = newRecord({ name: name ?? uniqueName(data, checkName(base)), kind: 'official', ...fields });
    return { account: insert(data, record), created: true };
  });
}

export function credentials(vault: Vault, account: AccountRecord): Credentials {
  return vault.openJson<Credentials>(account.secret);
}

export async function useAccount(store: Store, name: string): Promise<AccountRecord> {
  return store.update((data) => {
    const account = requireAccount(data, name);
    data.settings.active = account.id;
    if (!account.enabled) account.enabled = true;
    return account;
  });
}

export async function removeAccount(store: Store, name: string): Promise<AccountRecord> {
  return store.update((data) => {
    const account = requireAccount(data, name);
    data.accounts = data.accounts.filter((a) => a !== account);
    if (data.settings.active === account.id) data.settings.active = data.accounts[0]?.id;
    return account;
  });
}

export async function setEnabled(store: Store, name: string, enabled: boolean): Promise<AccountRecord> {
  return store.update((data) => {
    const account = requireAccount(data, name);
    account.enabled = enabled;
    return account;
  });
}

/** Puts the named accounts first, in that order; the rest keep their relative order after them. */
export async function orderAccounts(store: Store, names: string[]): Promise<AccountRecord[]> {
  return store.update((data) => {
    const picked = names.map((n) => requireAccount(data, n));
    if (new Set(picked).size !== picked.length) throw new AccountError('an account is named twice in the order');
    data.accounts = [...picked, ...data.accounts.filter((a) => !picked.includes(a))];
    return data.accounts;
  });
}

export interface AccountEdit {
  name?: string;
  /** Third-party accounts only. */
  baseUrl?: string;
  /** `default` (the setting), `direct`, or a proxy URL. */
  upstreamProxy?: string;
}

/** Renames an account, moves a third-party one to another base URL, or sets how it reaches its upstream. */
export async function editAccount(store: Store, vault: Vault, name: string, edit: AccountEdit): Promise<AccountRecord> {
  // Everything is checked (and a proxy password sealed) before the store is touched.
  const newName = edit.name === undefined ? undefined : checkName(edit.name);
  const baseUrl = edit.baseUrl === undefined ? undefined : checkBaseUrl(edit.baseUrl);
  const proxy = edit.upstreamProxy === undefined ? undefined : (proxyChoice(vault, edit.upstreamProxy, 'account') as AccountProxy | null);
  return store.update((data) => {
    const account = requireAccount(data, name);
    if (newName !== undefined && newName !== account.name) {
      if (data.accounts.some((a) => a.name === newName)) throw new AccountError(`an account named "${newName}" exists already; pick another name`, 409);
      account.name = newName;
    }
    if (baseUrl !== undefined) {
      if (account.kind !== 'third-party') throw new AccountError(`${account.name} is a ChatGPT account: it always goes to ChatGPT's backend, so it has no base URL to change`);
      account.baseUrl = baseUrl;
    }
    if (proxy === null) delete account.upstreamProxy;
    else if (proxy !== undefined) account.upstreamProxy = proxy;
    return account;
  });
}

/**
 * An account as shown to users, the CLI's `--json` and the admin API: secrets are only "set", proxy passwords
 * masked, and the quota history (the forecast's input) left out.
 */
export function describeAccount(account: AccountRecord, data: Readonly<StoreData>) {
  const { secret, upstreamProxy, quotaSamples: _history, ...rest } = account;
  return { ...rest, secret: secret ? 'set' : 'not set', upstreamProxy: showProxy(upstreamProxy), active: data.settings.active === account.id };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

import fs from 'node:fs/promises';
import { readTextIfExists } from '../files.js';
import { AccountError, type OfficialTokens } from '../accounts.js';

/** `$CODEX_HOME/auth.json` as Codex writes it (codex-protocol.md). */
export interface CodexAuthFile {
  auth_mode?: string;
  OPENAI_API_KEY?: string | null;
  tokens?: { id_token?: string; access_token?: string; refresh_token?: string; account_id?: string } | null;
  last_refresh?: string;
  [other: string]: unknown;
}

export type CodexLogin =
  | { kind: 'chatgpt'; tokens: OfficialTokens }
  | { kind: 'apikey'; apiKey: string };

/** auth.json is a few KB; the path may come from the admin API or --auth-file and name anything. */
const MAX_AUTH_BYTES = 1024 * 1024;

/** Reads and parses auth.json; `undefined` when there is none. A file that does not parse is an error naming it. */
export async function readCodexAuth(file: string): Promise<CodexAuthFile | undefined> {
  // A device (/dev/zero), FIFO or directory would be read forever, block, or throw EISDIR: refuse them unread.
  const stat = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new AccountError(`cannot read ${file} (${err.code ?? err.message}); give the path of Codex's auth.json`);
  });
  if (!stat) return undefined;
  if (!stat.isFile() || stat.size > MAX_AUTH_BYTES) throw new AccountError(`${file} is not an auth.json (${stat.isFile() ? 'over 1 MB' : 'not a regular file'}); give the path of Codex's auth.json`);
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as CodexAuthFile;
  } catch (err) {
    // V8's message quotes the text around the error, which here is a token: say where, never what.
    const where = /position \d+/.exec((err as Error).message)?.[0];
    throw new AccountError(`${file} is not valid JSON${where ? ` (at ${where})` : ''}; run \`codex login\` to recreate it`);
  }
}

/** The login an auth.json holds: ChatGPT tokens or an API key. */
export function loginFrom(auth: CodexAuthFile, file: string): CodexLogin {
  const t = auth.tokens;
  if (t?.access_token && t.refresh_token) {
    return {
      kind: 'chatgpt',
      tokens: {
        accessToken: t.access_token,
        refreshToken: t.refresh_token,
        idToken: t.id_token,
        accountId: t.account_id,
        lastRefresh: auth.last_refresh,
      },
    };
  }
  if (typeof auth.OPENAI_API_KEY === 'string' && auth.OPENAI_API_KEY) {
    return { kind: 'apikey', apiKey: auth.OPENAI_API_KEY };
  }
  throw new AccountError(`${file} holds neither ChatGPT tokens nor an API key; run \`codex login\` first`);
}

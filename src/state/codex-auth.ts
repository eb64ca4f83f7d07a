import { readTextIfExists } from './files.js';
import { AccountError, type OfficialTokens } from './accounts.js';

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

/** Reads and parses auth.json; `undefined` when there is none. A file that does not parse is an error naming it. */
export async function readCodexAuth(file: string): Promise<CodexAuthFile | undefined> {
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as CodexAuthFile;
  } catch (err) {
    throw new AccountError(`${file} is not valid JSON (${(err as Error).message}); run \`codex login\` to recreate it`);
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

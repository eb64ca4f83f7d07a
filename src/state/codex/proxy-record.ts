/**
 * How Codex is pointed at the gateway:
 * - `base-url`: top-level `openai_base_url`, keeping the built-in provider id `openai` (history stays visible);
 * - `provider`: `model_provider = "aigate"` and a `[model_providers.aigate]` table;
 * - `third-party`: the user's own custom provider, with only its `base_url` repointed.
 */
export type ProxyMode = 'base-url' | 'provider' | 'third-party';

/** One value `on` set, and what was there before, so `off` can put back just that. */
export interface ProxyChange {
  path: string[];
  /** Whether the key existed before `on`. */
  had: boolean;
  prior?: unknown;
  ours: unknown;
}

/**
 * What `aigate proxy on` wrote into config.toml (and auth.json), so `aigate proxy off`
 * can undo exactly that. Fields past `at` are optional so a record written by an
 * earlier build still reads; nothing wrote one before this shape existed.
 */
export interface ProxyRecord {
  mode: ProxyMode;
  /** Hash of config.toml right after AI Gate's last write: a different hash means the user edited it since. */
  writtenHash: string;
  at: string;
  /** Legacy: config.toml before `on`, base64 in the clear. No longer written; read if present. */
  before?: string;
  /** config.toml before `on`, sealed with the vault: users put MCP keys in it. */
  sealedBefore?: string;
  /** false: there was no config.toml before `on`, and an untouched `off` removes it again. */
  beforeExisted?: boolean;
  gatewayUrl?: string;
  changes?: ProxyChange[];
  /** A table `on` created whole (`[model_providers.aigate]`): removed on `off` once it holds nothing of the user's. */
  createdTable?: string[];
  /** The placeholder API-key login written because auth.json had no usable one. */
  auth?: {
    placeholderHash: string;
    /** auth.json before the placeholder, sealed; absent when there was none. */
    sealedBefore?: string;
  };
}

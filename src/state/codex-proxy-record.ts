/** What `aigate proxy on` wrote into config.toml, so `aigate proxy off` can undo exactly that. */
export interface ProxyRecord {
  mode: 'base-url' | 'provider' | 'third-party';
  /** Hash of config.toml right after AI Gate's last write: a different hash means the user edited it since. */
  writtenHash: string;
  /** The config.toml bytes before `on`, base64 — config.toml holds no secrets AI Gate owns. */
  before: string;
  at: string;
}

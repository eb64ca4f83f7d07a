import { conversationsFile, type Paths } from './paths.js';
import { FILE_MODE, readTextIfExists, writeFileAtomically } from './files.js';

export interface Conversation {
  /** Every account that has answered a turn of this conversation: their reasoning is in its history. */
  servedBy: string[];
  /** The account that answered last: the sticky one while it stays healthy. */
  last: string;
  at: number;
}

const MAX_CONVERSATIONS = 5_000;
const SAVE_DELAY_MS = 2_000;

/**
 * Which accounts served which Codex conversation (keyed by `session-id`,
 * `thread-id` or `prompt_cache_key`). Kept in memory, newest last, and saved
 * shortly after a change so a restarted gateway still knows whose encrypted
 * reasoning a conversation carries.
 */
export class Conversations {
  private map = new Map<string, Conversation>();
  private saveTimer?: NodeJS.Timeout;

  constructor(private readonly paths?: Paths) {}

  async load(): Promise<void> {
    if (!this.paths) return;
    const text = await readTextIfExists(conversationsFile(this.paths));
    if (!text) return;
    try {
      const entries = JSON.parse(text) as [string, Conversation][];
      this.map = new Map(entries.slice(-MAX_CONVERSATIONS));
    } catch {
      // A damaged cache only costs stickiness; the next save replaces it.
      console.error(`aigate: ignoring damaged ${conversationsFile(this.paths)}`);
    }
  }

  get(key: string | undefined): Conversation | undefined {
    return key ? this.map.get(key) : undefined;
  }

  served(key: string | undefined, accountId: string, now: number): void {
    if (!key) return;
    const existing = this.map.get(key);
    if (existing && existing.last === accountId && existing.servedBy.includes(accountId)) {
      existing.at = now;
      return;
    }
    this.map.delete(key);
    const servedBy = existing ? [...new Set([...existing.servedBy, accountId])] : [accountId];
    this.map.set(key, { servedBy, last: accountId, at: now });
    if (this.map.size > MAX_CONVERSATIONS) this.map.delete(this.map.keys().next().value!);
    this.saveSoon();
  }

  private saveSoon(): void {
    if (!this.paths || this.saveTimer) return;
    this.saveTimer = setTimeout(() => void this.save(), SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  async save(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.paths) return;
    await writeFileAtomically(conversationsFile(this.paths), JSON.stringify([...this.map]), { mode: FILE_MODE }).catch((err) =>
      console.error(`aigate: could not save conversations: ${err.message}`),
    );
  }
}

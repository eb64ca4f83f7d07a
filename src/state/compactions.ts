import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { debuglog } from 'node:util';
import { ensureDir, FILE_MODE, writeFileAtomically } from './files.js';
import type { Clock } from './clock.js';
import { compactionsDir, type Paths } from './paths.js';
import type { Vault } from './secrets.js';

const log = debuglog('aigate:compaction');

/** A compaction item untouched this long is dropped with its history (a conversation resumed later degrades). */
const KEEP_MS = 30 * 86_400_000;
/** At most this much kept history on disk; the least recently used goes first. */
const KEEP_BYTES = 1024 * 1024 * 1024;
const CACHE_MAX = 256;
const PRUNE_EVERY_MS = 86_400_000;

/** The key a compaction blob goes by: its hash, never the blob (which is the user's history). */
export const blobKey = (blob: string) => crypto.createHash('sha256').update(blob).digest('base64url').slice(0, 22);

interface Entry {
  bytes: number;
  usedAt: number;
}

/**
 * The history behind each remote compaction item AI Gate has seen: which
 * account made the blob, and the input of the request that made it, so that
 * when the conversation moves, another account can compact the same history
 * for itself. Also the blobs made that way (translations). Everything is
 * sealed with the vault and lives under `data/compactions/`, one file each:
 * `<key>.<producer>.input`, `<key>.<account>.for`, `<key>.summary.for`.
 */
export class Compactions {
  /** Every file by name, for pruning. */
  private readonly index = new Map<string, Entry>();
  /** Blob key → the account that made it. */
  private readonly producers = new Map<string, string>();
  /** Recently used translations in memory (every request of a moved conversation needs one). */
  private readonly cache = new Map<string, string>();
  /** Blobs of unknown origin that an account refused (history from before AI Gate); memory only. */
  private readonly refusals = new Set<string>();
  /** Missing histories already announced, as `key:account` (see firstLoss). */
  private readonly losses = new Set<string>();
  private readonly dir: string;
  private prunedAt = 0;

  constructor(
    paths: Paths,
    private readonly vault: Vault,
    private readonly clock: Clock,
  ) {
    this.dir = compactionsDir(paths);
  }

  async load(): Promise<void> {
    const dir = this.dir;
    await ensureDir(dir);
    for (const name of await fs.readdir(dir)) {
      const m = /^([\w-]{22})\.([\w-]+)\.(input|for)$/.exec(name);
      if (!m) continue;
      const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
      if (!stat) continue;
      this.index.set(name, { bytes: stat.size, usedAt: stat.mtimeMs });
      if (m[3] === 'input') this.producers.set(m[1]!, m[2]!);
    }
    await this.prune();
  }

  /** Who made the blob with this key, when AI Gate saw it made. */
  producerOf(key: string): string | undefined {
    return this.producers.get(key);
  }

  /** Keeps the history a new compaction blob stands for (`input`: the request's items before the trigger). */
  async remember(blob: string, producer: string, input: unknown[]): Promise<void> {
    const key = blobKey(blob);
    if (this.producers.has(key)) return;
    // A gateway that runs for weeks prunes as it goes, at most daily.
    if (this.clock.now() - this.prunedAt > PRUNE_EVERY_MS) await this.prune();
    this.producers.set(key, producer);
    await this.write(`${key}.${producer}.input`, JSON.stringify(input));
    log('kept the history of compaction %s by %s (%d items)', key, producer, input.length);
  }

  /** The history a blob stands for, or undefined when it was never seen or has been dropped. */
  async inputOf(key: string): Promise<unknown[] | undefined> {
    const producer = this.producerOf(key);
    if (producer === undefined) return undefined;
    const text = await this.read(`${key}.${producer}.input`);
    return text === undefined ? undefined : (JSON.parse(text) as unknown[]);
  }

  /** A blob `account` made standing for the same history (`summary`: AI Gate's plain-text one, for any account). */
  async translation(key: string, account: string): Promise<string | undefined> {
    const name = `${key}.${account}.for`;
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const text = await this.read(name);
    if (text !== undefined) this.cacheSet(name, text);
    return text;
  }

  async translated(key: string, account: string, blob: string): Promise<void> {
    const name = `${key}.${account}.for`;
    this.cacheSet(name, blob);
    await this.write(name, blob);
  }

  /** Notes that `account` could not read the blobs with these keys (it answered `invalid_encrypted_content`). */
  refused(keys: string[], account: string): void {
    for (const key of keys) if (!this.producers.has(key)) this.refusals.add(`${key}:${account}`);
  }

  /**
   * True the first time the history behind `key` is found missing for `account` (by this process): every
   * later request of the conversation carries the same blob, and the loss is said once.
   */
  firstLoss(key: string, account: string): boolean {
    const id = `${key}:${account}`;
    if (this.losses.has(id)) return false;
    this.losses.add(id);
    return true;
  }

  refusedBy(key: string, account: string): boolean {
    return this.refusals.has(`${key}:${account}`);
  }

  /** Drops what has not been used for KEEP_MS, then the least recently used beyond KEEP_BYTES. */
  async prune(): Promise<number> {
    const now = this.clock.now();
    this.prunedAt = now;
    const byAge = [...this.index].sort((a, b) => a[1].usedAt - b[1].usedAt);
    let total = byAge.reduce((sum, [, e]) => sum + e.bytes, 0);
    let removed = 0;
    for (const [name, entry] of byAge) {
      if (now - entry.usedAt < KEEP_MS && total <= KEEP_BYTES) break;
      total -= entry.bytes;
      this.index.delete(name);
      this.cache.delete(name);
      if (name.endsWith('.input')) this.producers.delete(name.slice(0, 22));
      await fs.rm(path.join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }

  private async write(name: string, plain: string): Promise<void> {
    const sealed = this.vault.seal(plain);
    this.index.set(name, { bytes: sealed.length, usedAt: this.clock.now() });
    await writeFileAtomically(path.join(this.dir, name), sealed, { mode: FILE_MODE }).catch((err) =>
      console.error(`aigate: could not keep compacted history: ${(err as Error).message}`),
    );
  }

  private async read(name: string): Promise<string | undefined> {
    const entry = this.index.get(name);
    if (!entry) return undefined;
    const file = path.join(this.dir, name);
    try {
      const text = this.vault.open(await fs.readFile(file, 'utf8'));
      entry.usedAt = this.clock.now();
      await fs.utimes(file, new Date(), new Date()).catch(() => undefined);
      return text;
    } catch (err) {
      log('cannot read %s: %s', name, (err as Error).message);
      return undefined;
    }
  }

  private cacheSet(name: string, blob: string): void {
    this.cache.delete(name);
    this.cache.set(name, blob);
    if (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
  }
}

import fs from 'node:fs';
import { Low, type Adapter } from 'lowdb';
import lockfile from 'proper-lockfile';
import { storeFile, tempFilesDir, type Paths } from './paths.js';
import { createFileOnce, ensureDir, FILE_MODE, journalTempFiles, readTextIfExists, sweepTempFiles, writeFileAtomically } from './files.js';
import { defaultData, migrations, SCHEMA_VERSION, type StoreData } from './schema.js';

export class StoreError extends Error {
  readonly status = 500;
  readonly expose = true;
}

/**
 * The store's cross-process lock; whoever writes store.json (an update, a backup being restored) holds it.
 * Waits past `stale` (~15 s of retries): a process killed while holding the lock leaves it behind, and the
 * next one must outwait its staleness rather than fail (the soak's kill -9 rounds).
 */
export async function lockStore(file: string): Promise<() => Promise<void>> {
  return lockfile.lock(file, { realpath: false, stale: 10_000, retries: { retries: 80, minTimeout: 10, maxTimeout: 200 } }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ELOCKED') throw err;
    throw new StoreError(`another AI Gate process still holds the lock on ${file} after 15 s; try again, or if no aigate is running, delete ${file}.lock`);
  });
}

/** The JSON file as lowdb sees it: atomic writes with mode 0600; only ENOENT reads as empty. */
class StoreFile implements Adapter<StoreData> {
  /** The text this process last wrote or read: a reload that finds it again has nothing new. */
  lastText?: string;

  constructor(private readonly file: string) {}

  async read(): Promise<StoreData | null> {
    const text = await readTextIfExists(this.file);
    if (text === undefined) return null;
    this.lastText = text;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(text);
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object');
    } catch (err) {
      throw new StoreError(
        `AI Gate's store ${this.file} is damaged (${(err as Error).message}). It was left as it is: ` +
          'restore it with `aigate backup restore <id>` or move it aside to start empty.',
      );
    }
    return migrate(raw, this.file);
  }

  async write(data: StoreData): Promise<void> {
    const text = JSON.stringify(data, null, 2) + '\n';
    await writeFileAtomically(this.file, text, { mode: FILE_MODE });
    this.lastText = text;
  }

  /** True when the file holds something this process has not seen (another process wrote it). */
  async changed(): Promise<boolean> {
    return (await readTextIfExists(this.file)) !== this.lastText;
  }
}

async function migrate(raw: Record<string, unknown>, file: string): Promise<StoreData> {
  let version = typeof raw.version === 'number' ? raw.version : 0;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(`${file} was written by a newer AI Gate (schema ${version}, this one knows ${SCHEMA_VERSION}); update AI Gate`);
  }
  if (version === SCHEMA_VERSION) return raw as unknown as StoreData;
  // Keep the pre-migration bytes beside the store; a failed step leaves the file untouched.
  await writeFileAtomically(`${file}.v${version}.bak`, JSON.stringify(raw), { mode: FILE_MODE });
  const data = structuredClone(raw);
  while (version < SCHEMA_VERSION) {
    const step = migrations[version];
    if (!step) throw new StoreError(`no migration from schema ${version} for ${file}`);
    step(data);
    version += 1;
    data.version = version;
  }
  return data as unknown as StoreData;
}

/**
 * The single owner of `data/store.json`. Reads are from memory; every change
 * goes through `update`, which takes a cross-process lock, re-reads the file
 * (another `aigate` process may have written it), applies the change and
 * writes atomically — so the gateway and the CLI never lose each other's updates.
 */
export class Store {
  private readonly db: Low<StoreData>;
  private readonly adapter: StoreFile;
  private queue: Promise<unknown> = Promise.resolve();
  private watcher?: fs.FSWatcher;
  readonly file: string;

  private constructor(readonly paths: Paths) {
    this.file = storeFile(paths);
    this.adapter = new StoreFile(this.file);
    this.db = new Low(this.adapter, defaultData());
  }

  static async open(paths: Paths): Promise<Store> {
    await ensureDir(paths.data);
    // Every AI Gate process opens the store first: from here on its temp files are journalled, and those a
    // killed one left (here, in ~/.codex, in data/backups) are removed.
    await journalTempFiles(tempFilesDir(paths));
    await sweepTempFiles(tempFilesDir(paths)).catch((err) => console.error(`aigate: could not remove temp files left by a stopped process: ${err.message}`));
    const store = new Store(paths);
    await store.db.read();
    return store;
  }

  get data(): Readonly<StoreData> {
    return this.db.data;
  }

  /** Applies `change` to the newest data on disk and persists it; serialized within and across processes. */
  update<T>(change: (data: StoreData) => T): Promise<T> {
    const run = this.queue.then(() => this.locked(change));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async locked<T>(change: (data: StoreData) => T): Promise<T> {
    const adapter = this.adapter;
    // The lock needs the file to exist; creating it empty-but-valid is the same as "no store yet". Created
    // only if absent: a plain write here could land after another process's first update and erase it.
    if (!fs.existsSync(this.file)) await createFileOnce(this.file, JSON.stringify(defaultData(), null, 2) + '\n');
    const release = await lockStore(this.file);
    try {
      // Change a fresh copy from disk and swap it in only once it is written: until then readers keep
      // seeing the in-memory data (which callers may already have changed the same way).
      const fresh = (await adapter.read()) ?? defaultData();
      const result = change(fresh);
      await adapter.write(fresh);
      this.swap(fresh);
      return result;
    } finally {
      await release();
    }
  }

  private overlays: ((data: StoreData) => void)[] = [];

  /**
   * Registers changes this process holds in memory ahead of the file (account
   * health between flushes): they are laid over every newer copy read from disk.
   */
  overlay(apply: (data: StoreData) => void): void {
    this.overlays.push(apply);
  }

  private swap(fresh: StoreData): void {
    for (const apply of this.overlays) apply(fresh);
    this.db.data = fresh;
  }

  /** Resolves once every update queued so far has been written. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  /** Re-reads the file when another process changes it; `onChange` runs after each reload. */
  watch(onChange: () => void): void {
    if (this.watcher) return;
    let pending: NodeJS.Timeout | undefined;
    this.watcher = fs.watch(this.paths.data, (_event, name) => {
      if (name !== 'store.json' || pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        // Our own writes come back here too; only another process's change replaces what is in memory.
        this.queue = this.queue
          .then(async () => {
            if (!(await this.adapter.changed())) return;
            const fresh = await this.adapter.read();
            if (fresh) this.swap(fresh);
            onChange();
          })
          .catch((err) => console.error(`aigate: could not reload ${this.file}: ${err.message}`));
      }, 20);
    });
    this.watcher.unref();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

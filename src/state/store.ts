import fs from 'node:fs';
import { Low, type Adapter } from 'lowdb';
import lockfile from 'proper-lockfile';
import { storeFile, type Paths } from './paths.js';
import { ensureDir, FILE_MODE, readTextIfExists, writeFileAtomically } from './files.js';
import type { AccountRecord } from './accounts.js';
import type { ProxyRecord } from './codex-proxy-record.js';

export const SCHEMA_VERSION = 1;

export interface Settings {
  /** Id of the preferred account; new conversations go here while it is healthy. */
  active?: string;
  /** Move a request to the next account when one fails. */
  failover: boolean;
  /** Steer new conversations away from an account whose 5h or weekly use reaches this percent. */
  quotaThreshold?: number;
  statsRetentionDays: number;
  notifications: boolean;
}

export interface StoreData {
  version: number;
  /** In the user's order: failover walks this list. */
  accounts: AccountRecord[];
  settings: Settings;
  /** What `aigate proxy on` changed in config.toml, so `off` can undo exactly that. */
  proxy?: ProxyRecord;
}

export const defaultData = (): StoreData => ({
  version: SCHEMA_VERSION,
  accounts: [],
  settings: { failover: true, statsRetentionDays: 90, notifications: true },
});

/** One step per schema version: `migrations[n]` turns version n into n + 1. */
export const migrations: Record<number, (data: Record<string, unknown>) => void> = {
  // Version 0 was the unversioned first draft: accounts only.
  0: (data) => {
    data.settings = { ...defaultData().settings, ...(data.settings as object | undefined) };
    data.accounts ??= [];
  },
};

export class StoreError extends Error {
  readonly status = 500;
  readonly expose = true;
}

/** The JSON file as lowdb sees it: atomic writes with mode 0600; only ENOENT reads as empty. */
class StoreFile implements Adapter<StoreData> {
  constructor(private readonly file: string) {}

  async read(): Promise<StoreData | null> {
    const text = await readTextIfExists(this.file);
    if (text === undefined) return null;
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
    await writeFileAtomically(this.file, JSON.stringify(data, null, 2) + '\n', { mode: FILE_MODE });
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
  private queue: Promise<unknown> = Promise.resolve();
  private watcher?: fs.FSWatcher;
  readonly file: string;

  private constructor(readonly paths: Paths) {
    this.file = storeFile(paths);
    this.db = new Low(new StoreFile(this.file), defaultData());
  }

  static async open(paths: Paths): Promise<Store> {
    await ensureDir(paths.data);
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
    // The lock needs the file to exist; creating it empty-but-valid is the same as "no store yet".
    if (!fs.existsSync(this.file)) await this.db.write();
    const release = await lockfile.lock(this.file, {
      realpath: false,
      stale: 10_000,
      retries: { retries: 50, minTimeout: 10, maxTimeout: 200 },
    });
    try {
      await this.db.read();
      const result = change(this.db.data);
      await this.db.write();
      return result;
    } finally {
      await release();
    }
  }

  /** Re-reads the file when another process changes it; `onChange` runs after each reload. */
  watch(onChange: () => void): void {
    if (this.watcher) return;
    let pending: NodeJS.Timeout | undefined;
    this.watcher = fs.watch(this.paths.data, (_event, name) => {
      if (name !== 'store.json' || pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        this.queue = this.queue
          .then(() => this.db.read())
          .then(onChange, () => undefined);
      }, 20);
    });
    this.watcher.unref();
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

import { randomBytes } from 'node:crypto';
import { truncateSync, unlinkSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/** Private directories: only the user may list or enter them. */
export const DIR_MODE = 0o700;
/** Private files: only the user may read them. */
export const FILE_MODE = 0o600;

export async function ensureDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
}

/**
 * Reads a file as text; `undefined` only when it does not exist.
 * Every other failure (permissions, EISDIR, …) is thrown: a missing file is
 * "empty", an unreadable one is an error the user has to see.
 */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Writes through a temp file + fsync + rename, so readers see the old bytes or
 * the new ones, never a mix. Keeps the mode of an existing file unless one is given.
 */
export async function writeFileAtomically(
  file: string,
  data: string | Buffer,
  options: { mode?: number } = {},
): Promise<void> {
  await ensureDir(path.dirname(file));
  let mode = options.mode;
  if (mode === undefined) {
    try {
      mode = (await fs.stat(file)).mode & 0o777;
    } catch {
      mode = FILE_MODE;
    }
  }
  const done = beginTemp();
  try {
    // The temp's name is known only once it exists: note first that one may appear beside `file`.
    await noteTemp(`${PENDING}${path.resolve(file)}`);
    await writeFileAtomic(file, data, { mode, fsync: true, tmpfileCreated: noteTemp });
  } finally {
    done();
  }
}

/**
 * Creates `file` with `data` unless it exists already; true when this call
 * created it. The bytes go to a temp file first and are linked into place,
 * which fails if another process got there first — so two processes starting
 * on a new install agree on one file (a key, a token), and no reader ever
 * sees it half-written.
 */
export async function createFileOnce(file: string, data: string | Buffer, mode = FILE_MODE): Promise<boolean> {
  await ensureDir(path.dirname(file));
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
  const done = beginTemp();
  await noteTemp(tmp);
  const handle = await fs.open(tmp, 'wx', mode).catch((err) => (done(), Promise.reject(err)));
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await fs.rm(tmp, { force: true });
    done();
  }
}

/*
 * Temp files a killed process leaves behind. Every temp file (and backup folder in the making) is noted
 * in a journal of this process's own, `data/temp-files/<pid>.<random>`, before anything is written to it;
 * the journal is emptied whenever no write is in flight and removed at exit. A journal whose process is
 * gone lists exactly what a kill left — beside store.json, in the user's ~/.codex, in data/backups — and
 * the next AI Gate to open the store removes those and the journal. Only the journal decides: a file of
 * the user's that merely looks like a temp file (`config.toml.20260101`) is never touched. The one guess:
 * write-file-atomic names its temp only once it has made it, so a write killed in between leaves a `?`
 * line, and a temp of that file modified within PENDING_WINDOW_MS of the journal's last change is taken.
 */
/** write-file-atomic's `<name>.<uint32>`, createFileOnce's `<name>.<pid>.<hex>.new`, a backup's `.<id>.tmp`. */
const TEMP_NAME = /^(?:.+\.\d{1,10}|.+\.\d+\.[0-9a-f]{8}\.new|\.[0-9a-z-]+\.tmp)$/;
/** A journal line naming a file whose temp may be about to appear (killed between its creation and its note). */
const PENDING = '?';
let journal: string | undefined;
/** Every journal this process kept (tests open several homes in one process). */
const mine = new Set<string>();
let inFlight = 0;

/** Starts noting this process's temp files under `dir` (the store does this when it opens). */
export async function journalTempFiles(dir: string): Promise<void> {
  if (journal && path.dirname(journal) === dir) return;
  await ensureDir(dir);
  journal = path.join(dir, `${process.pid}.${randomBytes(4).toString('hex')}`);
  if (!mine.size) process.once('exit', dropJournals);
  mine.add(journal);
}

function dropJournals(): void {
  for (const file of mine) {
    try {
      unlinkSync(file);
    } catch {
      // never written, or already gone
    }
  }
}

/** Marks a write as in flight; the returned function ends it, emptying the journal once none is left. */
export function beginTemp(): () => void {
  inFlight++;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    // Synchronous, so no temp noted by a write that starts meanwhile can be truncated away.
    if (--inFlight === 0 && journal) {
      try {
        truncateSync(journal);
      } catch {
        // nothing noted yet
      }
    }
  };
}

/** Notes a temp file or folder before it is created; inside a `beginTemp()` … end. */
export async function noteTemp(tmp: string): Promise<void> {
  const line = tmp.startsWith(PENDING) ? tmp : path.resolve(tmp);
  // A journal that cannot be written (its folder was removed under us) costs only the clean-up after a kill.
  if (journal) await fs.appendFile(journal, line + '\n', { mode: FILE_MODE }).catch(() => undefined);
}

/** Removes what the journals of processes that are gone list, and those journals; returns what it removed. */
export async function sweepTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const file = path.join(dir, name);
    const pid = Number(/^(\d+)\.[0-9a-f]{8}$/.exec(name)?.[1]);
    if (!pid || mine.has(file) || isAlive(pid)) continue;
    const [text, stat] = await Promise.all([readTextIfExists(file), fs.stat(file).catch(() => undefined)]);
    const listed = new Set((text ?? '').split('\n').filter(Boolean));
    // A temp written within moments of the journal's last line (its mtime) is the one its last write was making;
    // one written later belongs to a process still running, and is left alone.
    const last = stat?.mtimeMs ?? NaN;
    for (const line of listed) {
      const temps = line.startsWith(PENDING) ? await tempsWrittenNear(line.slice(1), last) : [line];
      for (const tmp of temps) {
        if (!path.isAbsolute(tmp) || !TEMP_NAME.test(path.basename(tmp))) continue;
        if (await fs.rm(tmp, { recursive: true }).then(() => true, () => false)) removed.push(tmp);
      }
    }
    await fs.rm(file, { force: true });
  }
  return removed;
}

/** How far a killed write's temp may be modified from its journal line (a write of a large store included). */
const PENDING_WINDOW_MS = 2_000;

/** write-file-atomic temps of `file` (`<name>.<uint32>`) modified within PENDING_WINDOW_MS of `at`. */
async function tempsWrittenNear(file: string, at: number): Promise<string[]> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const temps: string[] = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.`) || !/^\d{1,10}$/.test(name.slice(base.length + 1))) continue;
    const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
    if (stat?.isFile() && Math.abs(stat.mtimeMs - at) <= PENDING_WINDOW_MS) temps.push(path.join(dir, name));
  }
  return temps;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

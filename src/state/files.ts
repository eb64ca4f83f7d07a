import { randomBytes } from 'node:crypto';
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
  await writeFileAtomic(file, data, { mode, fsync: true });
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
  const handle = await fs.open(tmp, 'wx', mode);
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
  }
}

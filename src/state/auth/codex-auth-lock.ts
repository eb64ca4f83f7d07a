/**
 * The locks Codex itself takes around a token refresh, seen with Codex 0.171
 * under strace: `flock(LOCK_EX)` on `$CODEX_HOME/auth.lock` for the whole
 * refresh (re-read auth.json, refresh, write), and `flock(LOCK_EX|LOCK_NB)` on
 * `auth.json.lock` while it replaces auth.json. AI Gate takes the same locks
 * for a login it shares with Codex, so the two never refresh one login at once
 * and each sees what the other wrote. flock(2) locks are advisory and held by
 * the open file: a process that dies releases them, nothing is left to clean.
 *
 * Node has no flock; `fs-ext` (an optional native dependency) provides it
 * (LockFileEx on Windows, as Rust's std uses for Codex). Where it is missing,
 * the locks are skipped and `aigate doctor` says so.
 */
import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { debuglog } from 'node:util';

const log = debuglog('aigate:tokens');
const RETRY_MS = 25;

type Flock = (fd: number, flags: 'exnb' | 'un', callback: (err: NodeJS.ErrnoException | null) => void) => void;
let flock: Promise<Flock | undefined> | undefined;

let codexLockProblem: string | undefined;

/** Why Codex's locks cannot be taken on this install (for `aigate doctor`); undefined when they can. */
export async function codexLockProblemNow(): Promise<string | undefined> {
  await loadFlock();
  return codexLockProblem;
}

function loadFlock(): Promise<Flock | undefined> {
  return (flock ??= import('fs-ext').then(
    (m) => ((m as { flock?: Flock }).flock ?? (m as { default?: { flock?: Flock } }).default?.flock),
    (err: Error) => {
      codexLockProblem = `the optional package fs-ext is not installed (${err.message.split('\n')[0]}); AI Gate cannot take Codex's auth.lock, so it and Codex could refresh one shared login at once`;
      return undefined;
    },
  ));
}

export class CodexLockTimeout extends Error {}

/**
 * Takes an exclusive flock on `file` (created if absent), waiting up to
 * `timeoutMs` for whoever holds it. Resolves with the release function.
 */
export async function lockExclusive(file: string, timeoutMs: number): Promise<() => Promise<void>> {
  const lock = await loadFlock();
  if (!lock) return async () => undefined;
  const handle = await fs.open(file, 'a', 0o600);
  const attempt = () => new Promise<boolean>((resolve, reject) => lock(handle.fd, 'exnb', (err) => (!err ? resolve(true) : err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK' ? resolve(false) : reject(err))));
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await attempt())) {
      if (Date.now() >= deadline) throw new CodexLockTimeout(`${file} is still held by another process (Codex refreshing?) after ${timeoutMs} ms`);
      // flock has no wait with a timeout: try again shortly, as Codex's own non-blocking lock does.
      await sleep(RETRY_MS);
    }
  } catch (err) {
    await handle.close();
    throw err;
  }
  log('locked %s', file);
  return async () => {
    // Closing the file releases the lock.
    await handle.close().catch(() => undefined);
  };
}

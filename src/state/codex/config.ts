import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from '@decimalturn/toml-patch';
import { createTwoFilesPatch } from 'diff';
import lockfile from 'proper-lockfile';
import { ensureDir } from '../files.js';
import { codexConfigFile, type Paths } from '../paths.js';
import type { TomlTable } from './toml-value.js';

/** A config.toml problem the user has to fix; `status` for the admin API. */
export class ConfigError extends Error {
  readonly expose = true;
  constructor(
    message: string,
    readonly status = 409,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

/** config.toml as read: the exact bytes, the text, the parsed data and a hash to notice later edits. */
export interface ConfigFile {
  path: string;
  exists: boolean;
  bytes: Buffer;
  text: string;
  data: TomlTable;
  hash: string;
}

export const sha256 = (bytes: Buffer | string) => crypto.createHash('sha256').update(bytes).digest('hex');

/** Parses config.toml text; a file that does not parse is refused with its line and column (1-based). */
export function parseConfig(text: string, file = 'config.toml'): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (err) {
    const e = err as Error & { line?: number; column?: number };
    // The parser's message quotes the offending line, which may hold a secret: keep only its last line, the reason.
    const reason = e.message.split('\n').pop()?.trim() || 'syntax error';
    const where = e.line ? ` at line ${e.line}, column ${(e.column ?? 0) + 1}` : '';
    throw new ConfigError(`${file} does not parse${where}: ${reason} — AI Gate changed nothing; fix the file (or restore a backup) and try again`, 409, e.line, e.column === undefined ? undefined : e.column + 1);
  }
}

export async function readCodexConfig(paths: Paths): Promise<ConfigFile> {
  const file = codexConfigFile(paths);
  let bytes: Buffer;
  let exists = true;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    bytes = Buffer.alloc(0);
    exists = false;
  }
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new ConfigError(`${file} is not valid UTF-8 — AI Gate changed nothing`);
  return { path: file, exists, bytes, text, data: parseConfig(text, file), hash: sha256(bytes) };
}

/** A unified diff of config.toml; empty when nothing changes. */
export function configDiff(before: string, after: string, name = 'config.toml'): string {
  if (before === after) return '';
  return createTwoFilesPatch(`a/${name}`, `b/${name}`, before, after, undefined, undefined, { context: 3 });
}

/**
 * Serialises config.toml edits across AI Gate processes (the tray's admin API and
 * the CLI): each edit reads, decides and writes under one lock.
 */
export async function withConfigLock<T>(paths: Paths, fn: () => Promise<T>): Promise<T> {
  await ensureDir(paths.data);
  const lockTarget = path.join(paths.data, 'codex-config');
  const release = await lockfile.lock(lockTarget, {
    realpath: false,
    lockfilePath: `${lockTarget}.lock`,
    stale: 10_000,
    // Outwaits `stale`, so a lock left by a killed process is taken over instead of failing the edit.
    retries: { retries: 80, minTimeout: 10, maxTimeout: 200 },
  });
  try {
    return await fn();
  } finally {
    await release();
  }
}

import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { withConfigLock } from './config.js';
import type { StateContext } from '../context.js';
import { beginTemp, ensureDir, FILE_MODE, noteTemp, readTextIfExists, writeFileAtomically } from '../files.js';
import { backupsDir, codexAuthFile, codexConfigFile, storeFile, type Paths } from '../paths.js';
import { lockStore } from '../store.js';
import { UserError } from '../user-error.js';

/** Why a snapshot was taken. Only `manual` ones are kept forever. */
export type BackupReason = 'manual' | 'proxy-on' | 'proxy-off' | 'pre-restore' | 'mcp-edit' | 'history-migrate';
export const AUTOMATIC_KEPT = 20;

export interface BackupFile {
  /** `config.toml`, `auth.json`, `store.json`, or a path under $CODEX_HOME for history files. */
  name: string;
  /** Where the file lives and is restored to. */
  path: string;
  /** false: the file did not exist, and restore removes it. */
  present: boolean;
  sha256?: string;
  size?: number;
  mode?: number;
  /** The content file inside the snapshot; `sealed` ones are encrypted with the vault. */
  blob?: string;
  sealed?: boolean;
}

/** `manifest.json`: what the snapshot holds. Hashes and sizes only, never content. */
export interface Manifest {
  id: string;
  version: 1;
  createdAt: string;
  reason: BackupReason;
  note?: string;
  files: BackupFile[];
}

export class BackupError extends UserError {}

const BLOB = /^files\/\d+\.(sealed|json)$/;
const ID = /^\d{8}-\d{9}-[a-z][a-z-]{0,30}-[0-9a-f]{6}$/;

/** Refuses anything that is not a snapshot id, so an id can never name a path outside the backups folder. */
export function checkBackupId(id: string): string {
  if (!ID.test(id)) throw new BackupError(`"${String(id).slice(0, 80)}" is not a backup id; \`aigate backup list\` shows them (e.g. 20260124-101502123-manual-1a2b3c)`);
  return id;
}

function newId(reason: BackupReason, at: Date): string {
  const stamp = at.toISOString().replace(/[-:T.Z]/g, ''); // 20260124101502123
  return `${stamp.slice(0, 8)}-${stamp.slice(8)}-${reason}-${crypto.randomBytes(3).toString('hex')}`;
}

/** The files every snapshot holds: Codex's config and login, and AI Gate's store (its secrets already sealed). */
function standardFiles(paths: Paths): { name: string; path: string }[] {
  return [
    { name: 'config.toml', path: codexConfigFile(paths) },
    { name: 'auth.json', path: codexAuthFile(paths) },
    { name: 'store.json', path: storeFile(paths) },
  ];
}

async function readIfExists(file: string): Promise<{ bytes: Buffer; mode: number } | undefined> {
  try {
    const [bytes, stat] = await Promise.all([fs.readFile(file), fs.stat(file)]);
    return { bytes, mode: stat.mode & 0o777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Snapshots config.toml, auth.json, the store and any `extraFiles` (absolute
 * paths under $CODEX_HOME). Every content file is sealed with the vault except
 * the store, whose secrets are sealed already. Written to a temp folder and
 * renamed, so a snapshot is whole or absent.
 */
export async function createBackup(ctx: StateContext, options: { reason: BackupReason; note?: string; extraFiles?: string[] }): Promise<Manifest> {
  const at = new Date();
  const id = newId(options.reason, at);
  const root = backupsDir(ctx.paths);
  const tmp = path.join(root, `.${id}.tmp`);
  const done = beginTemp();
  let manifest: Manifest;
  try {
    await noteTemp(tmp);
    await ensureDir(path.join(tmp, 'files'));
    manifest = { id, version: 1, createdAt: at.toISOString(), reason: options.reason, ...(options.note ? { note: options.note } : {}), files: await snapshotFiles(ctx, tmp, options.extraFiles ?? []) };
    await writeFileAtomically(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', { mode: FILE_MODE });
    await fs.rename(tmp, path.join(root, id));
  } finally {
    done();
  }
  if (options.reason !== 'manual') await pruneBackups(ctx);
  return manifest;
}

/** Copies each file into `tmp/files/` (sealed but for the store) and describes it for the manifest. */
async function snapshotFiles(ctx: StateContext, tmp: string, extraFiles: string[]): Promise<BackupFile[]> {
  const wanted = [...standardFiles(ctx.paths), ...extraFiles.map((p) => ({ name: path.relative(ctx.paths.codexHome, p), path: p }))];
  const files: BackupFile[] = [];
  for (const [i, f] of wanted.entries()) {
    const found = await readIfExists(f.path);
    if (!found) {
      files.push({ ...f, present: false });
      continue;
    }
    const sealed = f.path !== storeFile(ctx.paths);
    const blob = `files/${i}${sealed ? '.sealed' : '.json'}`;
    await writeFileAtomically(path.join(tmp, blob), sealed ? ctx.vault.seal(found.bytes.toString('base64')) : found.bytes, { mode: FILE_MODE });
    files.push({ ...f, present: true, sha256: sha(found.bytes), size: found.bytes.length, mode: found.mode, blob, sealed });
  }
  return files;
}

const sha = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

/** Every snapshot, newest first. A folder without a readable manifest is skipped, not deleted. */
export async function listBackups(ctx: StateContext): Promise<Manifest[]> {
  let names: string[];
  try {
    names = await fs.readdir(backupsDir(ctx.paths));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const manifests: Manifest[] = [];
  for (const name of names.filter((n) => ID.test(n))) {
    const text = await readTextIfExists(path.join(backupsDir(ctx.paths), name, 'manifest.json'));
    try {
      if (text) manifests.push(JSON.parse(text) as Manifest);
    } catch {
      // A damaged manifest: leave the folder for the user to inspect.
    }
  }
  return manifests.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

export async function readManifest(ctx: StateContext, id: string): Promise<Manifest> {
  const text = await readTextIfExists(path.join(backupsDir(ctx.paths), checkBackupId(id), 'manifest.json'));
  if (!text) throw new BackupError(`no backup ${id}; \`aigate backup list\` shows the ones there are`, 404);
  return JSON.parse(text) as Manifest;
}

/** A snapshot's copy of one file, decrypted and checked against the manifest's hash. */
async function contentOf(ctx: StateContext, manifest: Manifest, file: BackupFile): Promise<Buffer | undefined> {
  if (!file.present || !file.blob) return undefined;
  if (!BLOB.test(file.blob)) throw new BackupError(`backup ${manifest.id} names a content file "${file.blob}" outside its folder; nothing was restored`, 409);
  const raw = await fs.readFile(path.join(backupsDir(ctx.paths), manifest.id, file.blob));
  const bytes = file.sealed ? Buffer.from(ctx.vault.open(raw.toString('utf8')), 'base64') : raw;
  if (sha(bytes) !== file.sha256) throw new BackupError(`backup ${manifest.id} is damaged: ${file.name} does not match its recorded hash; nothing was restored`, 409);
  return bytes;
}

/** Restore writes only to AI Gate's own files and Codex's home: a manifest cannot send bytes anywhere else. */
function checkTarget(paths: Paths, file: BackupFile): void {
  const inside = (dir: string) => !path.relative(dir, file.path).startsWith('..') && !path.isAbsolute(path.relative(dir, file.path));
  if (!path.isAbsolute(file.path) || !(inside(paths.codexHome) || file.path === storeFile(paths))) {
    throw new BackupError(`backup lists ${file.name} at ${file.path}, outside $CODEX_HOME and AI Gate's store; nothing was restored`, 409);
  }
}

export interface FileDiff {
  name: string;
  path: string;
  change: 'unchanged' | 'modify' | 'create' | 'delete';
  /** A unified diff for text files that hold no login; others say only that they change. */
  diff?: string;
}

/** What restoring `id` would change, file by file; auth.json's contents are never shown. */
export async function backupDiff(ctx: StateContext, id: string): Promise<FileDiff[]> {
  const manifest = await readManifest(ctx, id);
  const out: FileDiff[] = [];
  for (const file of manifest.files) {
    const current = (await readIfExists(file.path))?.bytes;
    const saved = await contentOf(ctx, manifest, file);
    const change = !current && !saved ? 'unchanged' : !current ? 'create' : !saved ? 'delete' : current.equals(saved) ? 'unchanged' : 'modify';
    const showable = file.name === 'config.toml' || file.name === 'store.json';
    const diff = change !== 'unchanged' && showable
      ? createTwoFilesPatch(`current/${file.name}`, `backup/${file.name}`, current?.toString('utf8') ?? '', saved?.toString('utf8') ?? '')
      : undefined;
    out.push({ name: file.name, path: file.path, change, ...(diff ? { diff } : {}) });
  }
  return out;
}

/**
 * Restores a snapshot byte for byte, after snapshotting the current state (reason `pre-restore`). Under the
 * config.toml lock, like every other config edit: a concurrent `aigate mcp add` or `proxy on` (another process)
 * must not write back the bytes this restore replaced.
 */
export function restoreBackup(ctx: StateContext, id: string): Promise<{ restored: Manifest; preRestore: Manifest }> {
  return withConfigLock(ctx.paths, () => restoreLocked(ctx, id));
}

async function restoreLocked(ctx: StateContext, id: string): Promise<{ restored: Manifest; preRestore: Manifest }> {
  const manifest = await readManifest(ctx, id);
  const contents = new Map<BackupFile, Buffer | undefined>();
  for (const file of manifest.files) {
    checkTarget(ctx.paths, file);
    contents.set(file, await contentOf(ctx, manifest, file));
  }
  const preRestore = await createBackup(ctx, { reason: 'pre-restore', note: `before restoring ${id}`, extraFiles: manifest.files.map((f) => f.path).filter((p) => !standardFiles(ctx.paths).some((s) => s.path === p)) });
  for (const [file, bytes] of contents) {
    const write = async () => {
      // A SQLite file comes back whole (it was checkpointed before the copy); a newer log beside it would not match it.
      if (file.path.endsWith('.sqlite')) await Promise.all(['-wal', '-shm'].map((s) => fs.rm(file.path + s, { force: true })));
      if (bytes) await writeFileAtomically(file.path, bytes, { mode: file.mode ?? FILE_MODE });
      else await fs.rm(file.path, { force: true });
    };
    // The store has one owner; take its lock so a running gateway's update cannot interleave.
    if (file.path === storeFile(ctx.paths) && bytes) await withStoreLock(file.path, write);
    else await write();
  }
  return { restored: manifest, preRestore };
}

async function withStoreLock(file: string, fn: () => Promise<void>): Promise<void> {
  await ensureDir(path.dirname(file));
  await fs.appendFile(file, '', { mode: FILE_MODE });
  const release = await lockStore(file);
  try {
    await fn();
  } finally {
    await release();
  }
}

/** Keeps every manual snapshot and the newest AUTOMATIC_KEPT automatic ones; returns the ids removed. */
export async function pruneBackups(ctx: StateContext): Promise<{ removed: string[]; kept: number }> {
  const all = await listBackups(ctx);
  const automatic = all.filter((m) => m.reason !== 'manual');
  const removed = automatic.slice(AUTOMATIC_KEPT).map((m) => m.id);
  for (const id of removed) await fs.rm(path.join(backupsDir(ctx.paths), checkBackupId(id)), { recursive: true, force: true });
  return { removed, kept: all.length - removed.length };
}

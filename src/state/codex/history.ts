import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { createBackup } from './backups.js';
import type { StateContext } from '../context.js';
import { writeFileAtomically } from '../files.js';
import { openThreadIndex, type ThreadIndex } from './history-index.js';

/**
 * Codex lists and resumes sessions per `model_provider`, so after a provider
 * change older sessions vanish from `codex resume`. This re-tags them: the
 * `session_meta` first line of each rollout under sessions/ and
 * archived_sessions/, and the `threads` index in state_5.sqlite.
 */
export class HistoryError extends Error {
  readonly expose = true;
  readonly status = 400;
}

export interface MigrateOptions {
  from: string;
  to: string;
  dryRun: boolean;
  onProgress?: (progress: { scanned: number; total: number }) => void;
}

export interface MigrateResult {
  from: string;
  to: string;
  dryRun: boolean;
  rollouts: {
    scanned: number;
    /** Tagged `from`: what the migration changes (or changed). */
    matched: number;
    changed: number;
    /** Held open by a running process (a live Codex session): left alone, run again once it is closed. */
    inUse: number;
    /** First line not a readable session_meta. */
    unreadable: number;
  };
  sqlite: { present: boolean; matched: number; changed: number; skipped?: string };
  /** The snapshot taken before the first change. */
  backup?: string;
}

const PROVIDER = /^[A-Za-z0-9_.-]{1,64}$/;
const ROLLOUT = /^rollout-.*\.jsonl$/;
const FIRST_LINE_LIMIT = 16 * 1024 * 1024;

async function rolloutFiles(codexHome: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && ROLLOUT.test(e.name)) out.push(p);
    }
  };
  await walk(path.join(codexHome, 'sessions'));
  await walk(path.join(codexHome, 'archived_sessions'));
  return out.sort();
}

/** The first line only: rollouts grow to many megabytes, the tag is at the top. */
async function firstLine(file: string): Promise<string | undefined> {
  const handle = await fs.open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    const chunk = Buffer.alloc(64 * 1024);
    while (size < FIRST_LINE_LIMIT) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, size);
      if (!bytesRead) break;
      const part = chunk.subarray(0, bytesRead);
      const nl = part.indexOf(0x0a);
      chunks.push(Buffer.from(nl >= 0 ? part.subarray(0, nl) : part));
      size += bytesRead;
      if (nl >= 0) return Buffer.concat(chunks).toString('utf8');
    }
    return size ? Buffer.concat(chunks).toString('utf8') : undefined;
  } finally {
    await handle.close();
  }
}

/**
 * The first line with only the provider string changed, every other byte as
 * it was; verified by parsing. `undefined` when it is not a session_meta tagged `from`.
 */
export function retag(line: string, from: string, to: string): string | undefined {
  const meta = safeJson(line);
  if (meta?.type !== 'session_meta' || meta.payload?.model_provider !== from) return undefined;
  const expected = structuredClone(meta);
  expected.payload!.model_provider = to;
  for (const m of line.matchAll(/("model_provider"\s*:\s*)("(?:[^"\\]|\\.)*")/g)) {
    const candidate = line.slice(0, m.index) + m[1] + JSON.stringify(to) + line.slice(m.index! + m[0].length);
    try {
      if (isDeepStrictEqual(JSON.parse(candidate), expected)) return candidate;
    } catch {
      // not this occurrence
    }
  }
  return undefined;
}

/**
 * Files some process holds open, from /proc (Linux). A live Codex session keeps
 * its rollout open and appends to it; replacing that file would send its next
 * lines to an unlinked inode. Elsewhere `undefined`: the skill asks the user to close Codex first.
 */
async function openFiles(): Promise<Set<string> | undefined> {
  if (!existsSync('/proc/self/fd')) return undefined;
  const open = new Set<string>();
  for (const pid of (await fs.readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
      if (target?.startsWith('/')) open.add(target);
    }
  }
  return open;
}

export async function migrateHistory(ctx: StateContext, options: MigrateOptions): Promise<MigrateResult> {
  for (const id of [options.from, options.to]) {
    if (!PROVIDER.test(id)) throw new HistoryError(`"${String(id).slice(0, 80)}" is not a provider id (letters, digits, ".", "_", "-"), e.g. openai or aigate`);
  }
  if (options.from === options.to) throw new HistoryError(`--from and --to are both "${options.from}"; nothing to migrate`);
  const files = await rolloutFiles(ctx.paths.codexHome);
  const result: MigrateResult = {
    from: options.from,
    to: options.to,
    dryRun: options.dryRun,
    rollouts: { scanned: 0, matched: 0, changed: 0, inUse: 0, unreadable: 0 },
    sqlite: { present: false, matched: 0, changed: 0 },
  };
  let plan: { file: string; line: string }[] = [];
  for (const file of files) {
    const line = await firstLine(file).catch(() => undefined);
    result.rollouts.scanned++;
    if (result.rollouts.scanned % 200 === 0) options.onProgress?.({ scanned: result.rollouts.scanned, total: files.length });
    const meta = line === undefined ? undefined : safeJson(line);
    if (meta?.type !== 'session_meta') result.rollouts.unreadable++;
    else if (meta.payload?.model_provider === options.from) {
      const next = retag(line!, options.from, options.to);
      if (next === undefined) result.rollouts.unreadable++;
      else plan.push({ file, line: next });
    }
  }
  options.onProgress?.({ scanned: result.rollouts.scanned, total: files.length });
  const busy = options.dryRun || !plan.length ? undefined : await openFiles();
  if (busy) {
    const free = plan.filter((p) => !busy.has(p.file));
    result.rollouts.inUse = plan.length - free.length;
    plan = free;
  }
  result.rollouts.matched = plan.length;

  const index = await openThreadIndex(ctx.paths.codexHome);
  try {
    applyIndexCounts(result, index, options.from);
    if (options.dryRun || (plan.length === 0 && result.sqlite.matched === 0)) return result;
    // One snapshot of every file about to change, taken before the first write.
    index.db?.checkpoint();
    const backup = await createBackup(ctx, { reason: 'history-migrate', note: `${options.from} → ${options.to}`, extraFiles: [...plan.map((p) => p.file), ...(index.db && result.sqlite.matched ? [index.file] : [])] });
    result.backup = backup.id;
    for (const { file, line } of plan) {
      const bytes = await fs.readFile(file);
      const nl = bytes.indexOf(0x0a);
      const rest = nl >= 0 ? bytes.subarray(nl) : Buffer.alloc(0);
      await writeFileAtomically(file, Buffer.concat([Buffer.from(line, 'utf8'), rest]));
      result.rollouts.changed++;
    }
    // Threads whose rollout was left alone keep their tag in the index too, so the two agree.
    const leftAlone = busy ? [...busy].filter((f) => f.startsWith(ctx.paths.codexHome)) : [];
    if (index.db && result.sqlite.matched) result.sqlite.changed = index.db.retag(options.from, options.to, leftAlone);
    return result;
  } finally {
    index.db?.close();
  }
}

function applyIndexCounts(result: MigrateResult, index: ThreadIndex, from: string): void {
  result.sqlite.present = index.present;
  if (index.skipped) result.sqlite.skipped = index.skipped;
  if (index.db) result.sqlite.matched = index.db.count(from);
}

/** The first line of a rollout, as far as the migration looks at it. */
interface SessionMeta {
  type?: unknown;
  payload?: { model_provider?: unknown; [k: string]: unknown };
  [k: string]: unknown;
}

function safeJson(line: string): SessionMeta | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return value && typeof value === 'object' ? (value as SessionMeta) : undefined;
  } catch {
    return undefined;
  }
}

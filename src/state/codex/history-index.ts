import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Codex's thread index, `$CODEX_HOME/state_5.sqlite`, table `threads`
 * (column `model_provider`). Opened through better-sqlite3 when it is
 * installed; without it the rollouts are still re-tagged and the result says
 * why the index was skipped.
 */
export interface ThreadIndex {
  file: string;
  present: boolean;
  skipped?: string;
  db?: {
    count(provider: string): number;
    /** Re-tags every thread of `from` in one transaction; returns the rows changed. */
    retag(from: string, to: string, exceptRollouts?: string[]): number;
    /** Folds the write-ahead log into the main file, so a file copy is the whole database. */
    checkpoint(): void;
    close(): void;
  };
}

export const THREAD_INDEX = 'state_5.sqlite';

export async function openThreadIndex(codexHome: string): Promise<ThreadIndex> {
  const file = path.join(codexHome, THREAD_INDEX);
  if (!existsSync(file)) return { file, present: false };
  let Database: typeof import('better-sqlite3');
  try {
    Database = (await import('better-sqlite3')).default;
  } catch (err) {
    return { file, present: true, skipped: `better-sqlite3 is not available (${(err as Error).message.split('\n')[0]}); ${THREAD_INDEX} was left as it is — Codex rebuilds it from the rollouts, or reinstall AI Gate` };
  }
  let db: import('better-sqlite3').Database;
  try {
    db = new Database(file, { fileMustExist: true, timeout: 5_000 });
  } catch (err) {
    return { file, present: true, skipped: `${THREAD_INDEX} could not be opened (${(err as Error).message}); it was left as it is` };
  }
  const columns = db.prepare("SELECT name FROM pragma_table_info('threads')").all() as { name: string }[];
  if (!columns.some((c) => c.name === 'model_provider')) {
    db.close();
    return { file, present: true, skipped: `${THREAD_INDEX} has no threads.model_provider column (a Codex version AI Gate does not know); it was left as it is` };
  }
  const count = db.prepare('SELECT COUNT(*) AS n FROM threads WHERE model_provider = ?');
  const update = columns.some((c) => c.name === 'rollout_path')
    ? db.prepare('UPDATE threads SET model_provider = ? WHERE model_provider = ? AND rollout_path NOT IN (SELECT value FROM json_each(?))')
    : db.prepare('UPDATE threads SET model_provider = ? WHERE model_provider = ? AND ? IS NOT NULL');
  return {
    file,
    present: true,
    db: {
      count: (provider) => (count.get(provider) as { n: number }).n,
      retag: (from, to, except = []) => db.transaction(() => update.run(to, from, JSON.stringify(except)).changes)(),
      checkpoint: () => void db.pragma('wal_checkpoint(TRUNCATE)'),
      close: () => db.close(),
    },
  };
}

import os from 'node:os';
import path from 'node:path';

/** Where AI Gate and Codex keep their files. Resolved once per call from the environment. */
export interface Paths {
  /** `$AIGATE_HOME`, default `~/.aigate`. */
  home: string;
  /** `$AIGATE_HOME/data`: the store, secrets key file, stats, backups. */
  data: string;
  /** `$CODEX_HOME`, default `~/.codex`, as Codex itself resolves it. */
  codexHome: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): Paths {
  const home = env.AIGATE_HOME || path.join(os.homedir(), '.aigate');
  const codexHome = env.CODEX_HOME || path.join(os.homedir(), '.codex');
  return { home, data: path.join(home, 'data'), codexHome };
}

export const storeFile = (p: Paths) => path.join(p.data, 'store.json');
export const keyFile = (p: Paths) => path.join(p.data, 'secret.key');
export const adminTokenFile = (p: Paths) => path.join(p.data, 'admin-token');
export const statsDir = (p: Paths) => path.join(p.data, 'stats');
export const backupsDir = (p: Paths) => path.join(p.data, 'backups');
/** Journals of the temp files each running AI Gate process has in the making (see files.ts). */
export const tempFilesDir = (p: Paths) => path.join(p.data, 'temp-files');
/** The history behind remote compaction items, sealed (see compactions.ts). */
export const compactionsDir = (p: Paths) => path.join(p.data, 'compactions');
export const conversationsFile = (p: Paths) => path.join(p.data, 'conversations.json');
export const codexConfigFile = (p: Paths) => path.join(p.codexHome, 'config.toml');
export const codexAuthFile = (p: Paths) => path.join(p.codexHome, 'auth.json');

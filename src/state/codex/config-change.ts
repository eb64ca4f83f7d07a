import type { StateContext } from '../context.js';
import { writeFileAtomically } from '../files.js';
import { createBackup, type BackupReason, type Manifest } from './backups.js';
import { configDiff, parseConfig, readCodexConfig, withConfigLock, type ConfigFile } from './config.js';

export interface ConfigChange {
  before: string;
  after: string;
  diff: string;
  /** The snapshot taken before writing; absent when nothing changed. */
  backup?: Manifest;
}

/**
 * The one way AI Gate writes config.toml: under the lock, from a fresh read;
 * refused if the file does not parse; a backup first; atomic, keeping the mode.
 */
export async function changeConfig(
  ctx: StateContext,
  reason: BackupReason,
  compute: (config: ConfigFile) => string | Promise<string>,
): Promise<ConfigChange> {
  return withConfigLock(ctx.paths, async () => {
    const config = await readCodexConfig(ctx.paths);
    const after = await compute(config);
    const change: ConfigChange = { before: config.text, after, diff: configDiff(config.text, after) };
    if (after === config.text) return change;
    parseConfig(after);
    change.backup = await createBackup(ctx, { reason });
    await writeFileAtomically(config.path, after);
    return change;
  });
}

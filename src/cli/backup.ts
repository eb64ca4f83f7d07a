import { parseArgs } from 'node:util';
import { AUTOMATIC_KEPT, backupDiff, createBackup, listBackups, pruneBackups, restoreBackup, type Manifest } from '../state/codex/backups.js';
import { CliError, type Command } from './context.js';
import { stateContext } from './state-context.js';
import { table } from './table.js';

const USAGE = `aigate backup <create|list|diff ID|restore ID|prune> [--note TEXT] [--json]
  create [--note TEXT]  snapshot config.toml, auth.json and AI Gate's store (contents encrypted)
  list                  snapshots, newest first
  diff ID               what restoring ID would change (auth.json's contents are never shown)
  restore ID            put the snapshot back byte for byte, after a pre-restore snapshot
  prune                 keep every manual snapshot and the newest ${AUTOMATIC_KEPT} automatic ones
Snapshots live in $AIGATE_HOME/data/backups/<id>/.`;

const summary = (m: Manifest) => m.files.filter((f) => f.present).map((f) => f.name).join(', ');

export const backupCommand: Command = {
  name: 'backup',
  summary: 'snapshot, list, diff and restore config.toml, auth.json and the store',
  usage: USAGE,
  async run(args, ctx) {
    const { values, positionals } = parseArgs({ args, options: { note: { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true });
    const [verb = 'list', id] = positionals;
    const state = await stateContext(ctx);
    const needId = () => {
      if (!id) throw new CliError(`usage: aigate backup ${verb} ID (\`aigate backup list\` shows them)`, 2);
      return id;
    };
    switch (verb) {
      case 'create': {
        const m = await createBackup(state, { reason: 'manual', note: values.note });
        return values.json ? ctx.json(m) : ctx.out(`Backup ${m.id} created (${summary(m)}).`);
      }
      case 'list': {
        const all = await listBackups(state);
        if (values.json) return ctx.json(all);
        if (!all.length) return ctx.out('No backups yet. `aigate backup create` makes one; AI Gate also makes one before every change to config.toml.');
        return ctx.out(table([['ID', 'TIME', 'REASON', 'FILES', 'NOTE'], ...all.map((m) => [m.id, new Date(m.createdAt).toLocaleString(), m.reason, summary(m), m.note ?? ''])]));
      }
      case 'diff': {
        const diffs = await backupDiff(state, needId());
        if (values.json) return ctx.json(diffs);
        for (const d of diffs) {
          ctx.out(`${d.name}: ${d.change === 'unchanged' ? 'unchanged' : d.change === 'create' ? 'would be recreated' : d.change === 'delete' ? 'would be removed' : 'would change'}${d.change !== 'unchanged' && !d.diff ? ' (contents not shown)' : ''}`);
          if (d.diff) ctx.out(d.diff.trimEnd());
        }
        return;
      }
      case 'restore': {
        const { restored, preRestore } = await restoreBackup(state, needId());
        if (values.json) return ctx.json({ restored, preRestore });
        ctx.out(`Restored ${restored.id} (${summary(restored)}). The state before it is in ${preRestore.id}: \`aigate backup restore ${preRestore.id}\` undoes this.`);
        return;
      }
      case 'prune': {
        const r = await pruneBackups(state);
        return values.json ? ctx.json(r) : ctx.out(`Removed ${r.removed.length} automatic snapshot(s); ${r.kept} kept.`);
      }
      default:
        throw new CliError(`unknown backup verb "${verb}"\n${USAGE}`, 2);
    }
  },
};

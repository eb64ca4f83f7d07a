import { parseArgs } from 'node:util';
import { migrateHistory, type MigrateResult } from '../state/codex/history.js';
import { CliError, type Command } from './context.js';
import { stateContext } from './state-context.js';

const USAGE = `aigate history migrate [--from openai] [--to aigate] [--dry-run] [--json]
  Re-tags Codex sessions recorded under one provider id so \`codex resume\` lists them under
  another: the session_meta line of each rollout in $CODEX_HOME/sessions and archived_sessions,
  and the threads index in state_5.sqlite. --dry-run only counts. The real run backs up every
  file it changes first (reason history-migrate) and can be run again safely; the reverse
  (--from aigate --to openai) undoes it. Close other Codex sessions first.`;

function summary(r: MigrateResult): string {
  const verb = r.dryRun ? 'would re-tag' : 're-tagged';
  const count = r.dryRun ? r.rollouts.matched : r.rollouts.changed;
  const rows = r.dryRun ? r.sqlite.matched : r.sqlite.changed;
  const index = r.sqlite.skipped ? `; state_5.sqlite skipped: ${r.sqlite.skipped}` : r.sqlite.present ? ` and ${rows} threads in state_5.sqlite` : ' (no state_5.sqlite)';
  const lines = [`${r.from} → ${r.to}: ${verb} ${count} of ${r.rollouts.scanned} session files (${r.rollouts.matched} tagged ${r.from})${index}.`];
  if (r.rollouts.inUse) lines.push(`${r.rollouts.inUse} session file(s) are open in a running Codex and were left alone; close it and run this again.`);
  if (r.rollouts.unreadable) lines.push(`${r.rollouts.unreadable} file(s) have no readable session_meta first line and were skipped.`);
  if (r.backup) lines.push(`Backup ${r.backup} holds the files as they were (\`aigate backup restore ${r.backup}\`).`);
  if (r.dryRun && count + rows > 0) lines.push(`Run again without --dry-run to apply.`);
  if (!r.dryRun && count + rows === 0) lines.push('Nothing to change.');
  return lines.join('\n');
}

export const historyCommand: Command = {
  name: 'history',
  summary: 'migrate Codex session history between provider ids (with --dry-run and a backup)',
  usage: USAGE,
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: { from: { type: 'string' }, to: { type: 'string' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (positionals[0] !== 'migrate') throw new CliError(`usage: ${USAGE}`, 2);
    const state = await stateContext(ctx);
    const progress = !values.json && ctx.stderr ? ({ scanned, total }: { scanned: number; total: number }) => {
      if (total >= 200) ctx.stderr.write(`\rscanned ${scanned}/${total} session files…${scanned === total ? '\n' : ''}`);
    } : undefined;
    const result = await migrateHistory(state, { from: values.from ?? 'openai', to: values.to ?? 'aigate', dryRun: !!values['dry-run'], onProgress: progress });
    return values.json ? ctx.json(result) : ctx.out(summary(result));
  },
};

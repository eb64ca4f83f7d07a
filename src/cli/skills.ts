import { parseArgs } from 'node:util';
import { installSkill, listSkills, removeSkill } from '../state/codex/skills.js';
import { CliError, type Command } from './context.js';
import { stateContext } from './state-context.js';
import { table } from './table.js';

const USAGE = `aigate skills <list|install NAME|remove NAME> [--json]
  list          the skills AI Gate ships and those installed in $CODEX_HOME/skills
  install NAME  copy a bundled skill into $CODEX_HOME/skills/NAME (replacing an older copy)
  remove NAME   remove a skill AI Gate installed (your own skills are left alone)`;

export const skillsCommand: Command = {
  name: 'skills',
  summary: 'install, list and remove the Codex Skills AI Gate ships',
  usage: USAGE,
  async run(args, ctx) {
    const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true });
    const [verb = 'list', name] = positionals;
    const state = await stateContext(ctx);
    const need = () => {
      if (!name) throw new CliError(`usage: aigate skills ${verb} NAME`, 2);
      return name;
    };
    switch (verb) {
      case 'list': {
        const skills = await listSkills(state);
        if (values.json) return ctx.json(skills);
        return ctx.out(table([['NAME', 'SHIPPED', 'INSTALLED', 'DESCRIPTION'], ...skills.map((s) => [s.name, s.bundled ? 'yes' : 'no', s.installed ? 'yes' : 'no', s.description.length > 90 ? `${s.description.slice(0, 87)}…` : s.description])]));
      }
      case 'install': {
        const r = await installSkill(state, need());
        return values.json ? ctx.json(r) : ctx.out(`${r.name} ${r.replaced ? 'updated' : 'installed'} in ${r.path}; Codex picks it up in its next session.`);
      }
      case 'remove': {
        const r = await removeSkill(state, need());
        return values.json ? ctx.json(r) : ctx.out(`${r.name} removed from ${r.path}.`);
      }
      default:
        throw new CliError(`unknown skills verb "${verb}"\n${USAGE}`, 2);
    }
  },
};

import { CliContext, CliError, type Command } from './context.js';
import { serveCommand } from './serve.js';
import { accountsCommand } from './accounts.js';
import { statsCommand } from './stats.js';
import { pricesCommand } from './prices.js';
import { openCommand } from './open.js';
import { proxyCommand } from './proxy.js';
import { backupCommand } from './backup.js';
import { mcpCommand } from './mcp.js';
import { skillsCommand } from './skills.js';
import { historyCommand } from './history.js';
import { doctorCommand } from './doctor.js';
import { settingsCommand } from './settings.js';

/** Every verb of `aigate`, in the order `aigate help` lists them. */
export const commands: Command[] = [serveCommand, accountsCommand, settingsCommand, statsCommand, pricesCommand, openCommand, proxyCommand, backupCommand, mcpCommand, skillsCommand, historyCommand, doctorCommand];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'aigate — one local gateway for Codex, many accounts behind it',
    '',
    'Usage: aigate <command> [options]   (every command takes --json)',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'aigate <command> --help shows a command\'s options.',
  ].join('\n');
}

export async function main(argv: string[], ctx: CliContext): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    ctx.out(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    ctx.out(process.env.npm_package_version ?? (await import('../../package.json', { with: { type: 'json' } })).default.version);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  const json = args.includes('--json');
  try {
    if (!command) throw new CliError(`unknown command "${name}"\n\n${usage()}`, 2);
    if (args.includes('--help') || args.includes('-h')) {
      ctx.out(`Usage: ${command.usage}`);
      return 0;
    }
    return (await command.run(args, ctx)) ?? 0;
  } catch (err) {
    const e = err as Error & { expose?: boolean; exitCode?: number };
    const message = e.expose || e instanceof TypeError === false ? e.message : String(e);
    if (json) ctx.json({ error: message });
    else ctx.stderr.write(`aigate: ${message}\n`);
    return e.exitCode ?? 1;
  } finally {
    await ctx.close();
  }
}

export async function run(): Promise<void> {
  const ctx = new CliContext(process.env, process.stdout, process.stderr, process.stdin);
  process.exitCode = await main(process.argv.slice(2), ctx);
}

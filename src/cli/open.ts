import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CliError, type Command } from './context.js';
import { gatewayOrigin, requireAdmin } from './gateway-client.js';

const USAGE = `aigate open [--print] [--listen HOST:PORT] [--json]
  Opens the AI Gate pages (accounts, stats) in your browser through a one-time
  sign-in link from the running gateway; --print only prints the link (it works
  once, for two minutes). --listen (or AIGATE_LISTEN) names the gateway as for
  \`aigate serve\`.`;

export const openCommand: Command = {
  name: 'open',
  summary: 'open the AI Gate pages in a browser (a one-time sign-in link)',
  usage: USAGE,
  async run(args, ctx) {
    const { values } = parseArgs({ args, options: { print: { type: 'boolean' }, listen: { type: 'string' }, json: { type: 'boolean' } } });
    const origin = gatewayOrigin(ctx, values.listen);
    const body = await requireAdmin(ctx, origin, 'POST', 'login-links');
    if (typeof body?.url !== 'string') throw new CliError(`the gateway on ${origin} gave no sign-in link`);
    const url = body.url;
    if (values.json) return ctx.json({ url });
    if (values.print) return ctx.out(url);
    const problem = await openBrowser(url);
    if (problem) ctx.out(`Could not open a browser (${problem}). Open this link within two minutes (it works once):\n${url}`);
    else ctx.out('Opened AI Gate in your browser.');
  },
};

/** Hands the link to the desktop's opener; a problem (no opener, it failed) as text, `undefined` when it worked. */
function openBrowser(url: string): Promise<string | undefined> {
  const [command, ...args] =
    process.platform === 'darwin' ? ['open', url] : process.platform === 'win32' ? ['rundll32', 'url.dll,FileProtocolHandler', url] : ['xdg-open', url];
  return new Promise((resolve) => {
    const child = spawn(command!, args, { stdio: 'ignore', detached: true });
    // Openers usually return at once; one that lingers (it became the browser) has worked.
    const timer = setTimeout(() => {
      child.unref();
      resolve(undefined);
    }, 3_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${command} not found` : err.message);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? undefined : `${command} exited with ${code}`);
    });
  });
}

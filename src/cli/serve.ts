import { parseArgs } from 'node:util';
import { formatDuration } from '../state/account-status.js';
import type { EventBus, HandoverEvent } from '../state/events.js';
import { launchGateway } from '../launch.js';
import { parseListen } from '../proxy/listen-address.js';
import type { CliContext, Command } from './context.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the gateway headless on 127.0.0.1:6789 (Ctrl-C drains and stops)',
  usage: 'aigate serve [--listen HOST:PORT] [--json]   (HOST must be loopback; env AIGATE_LISTEN works too)',
  async run(args, ctx) {
    const { values } = parseArgs({ args, options: { listen: { type: 'string' }, json: { type: 'boolean' } } });
    const address = parseListen(values.listen ?? ctx.env.AIGATE_LISTEN);
    const running = await launchGateway({ address, env: ctx.env, paths: ctx.paths, keychain: ctx.keychain });
    const url = running.gateway.url;
    if (values.json) ctx.json({ ready: true, url, base_url: `${url}/ai-router/api` });
    else ctx.out(`aigate: gateway ready on ${url} — Codex base_url: ${url}/ai-router/api`);
    logEvents(running.bus, ctx);
    await new Promise<void>((resolve) => {
      const stop = async (signal: string) => {
        process.off('SIGINT', onInt).off('SIGTERM', onTerm);
        ctx.stderr.write(`aigate: ${signal}: draining in-flight streams (up to 5 s)…\n`);
        await running.stop(5_000);
        ctx.stderr.write('aigate: stopped\n');
        resolve();
      };
      const onInt = () => void stop('SIGINT');
      const onTerm = () => void stop('SIGTERM');
      process.once('SIGINT', onInt).once('SIGTERM', onTerm);
    });
    return 0;
  },
};

/** What a conversation's move to another account cost it, in a line (see README, "Long sessions across accounts"). */
const HANDOVER: Record<HandoverEvent['outcome'], (from: string) => string> = {
  compacted: (from) => `compacted the history behind ${from}'s compaction itself`,
  summarized: (from) => `summarized the history behind ${from}'s compaction (it cannot compact remotely)`,
  lost: (from) => `${from}'s compaction is not kept — a note stands in for it`,
  local: () => 'refused remote compaction: AI Gate compacts for it from now on',
};

/** One line per failover and account change, for the terminal running `aigate serve`. */
function logEvents(bus: EventBus, ctx: CliContext): void {
  // One formatter for every line: toLocaleTimeString builds a new one per call.
  const clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const time = () => clock.format(new Date());
  bus.on('failover', (e) => {
    const reset = e.resetsAt ? `, back in ${formatDuration(e.resetsAt - Date.now())}` : '';
    ctx.stderr.write(`${time()} failover: ${e.from} → ${e.to ?? '(none left)'}: ${e.reason}${e.status ? ` ${e.status}` : ''}${reset}\n`);
  });
  bus.on('account-state', (e) => ctx.stderr.write(`${time()} account ${e.account}: ${e.from} → ${e.to}${e.reason ? ` (${e.reason})` : ''}\n`));
  bus.on('token-refresh', (e) =>
    ctx.stderr.write(`${time()} token ${e.outcome} for ${e.account}${e.sharedWithCodex ? ' (shared with Codex)' : ''}${e.reason ? `: ${e.reason}` : ''}\n`),
  );
  // The message names the upstream and the proxy (masked): "proxy: work: chatgpt.com through proxy http://u:***@h:p: ECONNREFUSED".
  bus.on('proxy-error', (e) => ctx.stderr.write(`${time()} proxy: ${e.account}: ${e.message}\n`));
  bus.on('handover', (e) => ctx.stderr.write(`${time()} handover: ${e.account}: ${HANDOVER[e.outcome](e.from ?? 'another account')}${e.ms !== undefined ? ` (${Math.round(e.ms)} ms)` : ''}\n`));
  bus.on('exhausted', (e) =>
    ctx.stderr.write(`${time()} every account is out; first reset ${e.resetsAt ? new Date(e.resetsAt).toLocaleString() : 'unknown'}\n`),
  );
}

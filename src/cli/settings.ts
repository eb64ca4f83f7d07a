import { validate } from '../admin/input.js';
import { applySettings, SETTING_KEYS, SettingsChange, settingsView } from '../state/settings.js';
import { CliError, type CliContext, type Command } from './context.js';
import { table } from './table.js';

const USAGE = `aigate settings [--json]                 every setting and its value
aigate settings get KEY [--json]
aigate settings set KEY VALUE [--json]   checked like the admin API's PATCH /settings; bad input changes nothing
  failover             true | false      move a request to the next account when one fails
  quotaThreshold       1–100 | off       steer new conversations away from an account this used up
  notifications        true | false      the tray's OS notifications
  statsRetentionDays   1–3650            how long statistics are kept
  upstreamProxy        system | direct | URL
                       system: the OS proxy settings (tray) or HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY
                       (headless); direct: never a proxy; or http://, https://, socks5://, socks5h://
                       [user:password@]host:port (the password is kept encrypted and shown as ***)`;

type Key = (typeof SETTING_KEYS)[number];

function keyOf(word: string | undefined): Key {
  if (!word) throw new CliError(`usage: ${USAGE}`, 2);
  const key = SETTING_KEYS.find((k) => k.toLowerCase() === word.toLowerCase());
  if (!key) throw new CliError(`there is no setting "${word.slice(0, 40)}"; the settings are ${SETTING_KEYS.join(', ')}`, 2);
  return key;
}

/** The typed value a word on the command line stands for; the schema then judges it like any API input. */
function valueOf(key: Key, word: string): unknown {
  const w = word.trim().toLowerCase();
  if (key === 'upstreamProxy') return word.trim();
  if (key === 'quotaThreshold' && ['off', 'none', 'null'].includes(w)) return null;
  if (key === 'failover' || key === 'notifications') {
    if (['true', 'on', 'yes'].includes(w)) return true;
    if (['false', 'off', 'no'].includes(w)) return false;
    return word;
  }
  return w !== '' && Number.isFinite(Number(w)) ? Number(w) : word;
}

const shown = (value: unknown) => (value === null ? 'off' : String(value));

export const settingsCommand: Command = {
  name: 'settings',
  summary: 'list, get and set failover, quota threshold, notifications, stats retention and the upstream proxy',
  usage: USAGE,
  async run(args, ctx: CliContext) {
    const json = args.includes('--json');
    const [verb, key, ...rest] = args.filter((a) => a !== '--json');
    const store = await ctx.store();
    if (verb === undefined || verb === 'list') {
      const view = settingsView(store.data);
      if (json) ctx.json(view);
      else ctx.out(table(Object.entries(view).map(([k, v]) => [k, shown(v)])));
      return;
    }
    if (verb === 'get') {
      const k = keyOf(key);
      const value = settingsView(store.data)[k];
      if (json) ctx.json({ [k]: value });
      else ctx.out(shown(value));
      return;
    }
    if (verb !== 'set') throw new CliError(`unknown settings verb "${verb.slice(0, 40)}"\n${USAGE}`, 2);
    const k = keyOf(key);
    if (rest.length !== 1) throw new CliError(`usage: aigate settings set ${k} VALUE (one value; quote it if it has spaces)`, 2);
    const change = validate(SettingsChange, { [k]: valueOf(k, rest[0]!) }, 'setting');
    const view = await applySettings(store, await ctx.vault(), change);
    if (json) ctx.json(view);
    else ctx.out(`${k} = ${shown(view[k])}`);
  },
};

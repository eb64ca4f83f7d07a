import type { Readable, Writable } from 'node:stream';
import { UpstreamNet } from '../state/net/upstream-net.js';
import { resolvePaths, type Paths } from '../state/paths.js';
import { Vault, type Keychain } from '../state/secrets.js';
import { Store } from '../state/store.js';

/** What every command gets: its streams, the environment, and lazily opened state. */
export class CliContext {
  readonly paths: Paths;
  private storeP?: Promise<Store>;
  private vaultP?: Promise<Vault>;
  private netP?: Promise<UpstreamNet>;

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly stdout: Writable,
    readonly stderr: Writable,
    readonly stdin: Readable & { isTTY?: boolean },
    readonly keychain?: Keychain | null,
  ) {
    this.paths = resolvePaths(env);
  }

  store(): Promise<Store> {
    return (this.storeP ??= Store.open(this.paths));
  }

  vault(): Promise<Vault> {
    return (this.vaultP ??= Vault.open(this.paths, this.keychain));
  }

  /** How this command's requests beyond the machine go: the settings, each account's proxy, the environment. */
  net(): Promise<UpstreamNet> {
    return (this.netP ??= Promise.all([this.store(), this.vault()]).then(([store, vault]) => new UpstreamNet({ store, vault, env: this.env })));
  }

  out(line = ''): void {
    this.stdout.write(line + '\n');
  }

  json(value: unknown): void {
    this.stdout.write(JSON.stringify(value, null, 2) + '\n');
  }

  /** Reads all of stdin (for secrets, which never go in argv). */
  async readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.stdin) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }

  async close(): Promise<void> {
    (await this.netP?.catch(() => undefined))?.close();
    (await this.storeP?.catch(() => undefined))?.close();
  }
}

/** A user-facing failure: printed as `aigate: <message>` and exit code 1 (or `exitCode`). */
export class CliError extends Error {
  readonly expose = true;
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** One verb of a command (`aigate accounts list`): its own arguments without `--json`, and whether `--json` was given. */
export type Verb = (args: string[], ctx: CliContext, json: boolean) => Promise<number | void>;

/** Runs `aigate <command> <verb> …` from a table of verbs; `fallback` when no verb is given. */
export function runVerb(command: string, usage: string, verbs: Record<string, Verb>, fallback: string, args: string[], ctx: CliContext): Promise<number | void> {
  const json = args.includes('--json');
  const [verb = fallback, ...rest] = args.filter((a) => a !== '--json');
  const sub = Object.hasOwn(verbs, verb) ? verbs[verb] : undefined;
  if (!sub) throw new CliError(`unknown ${command} verb "${verb}"\n${usage}`, 2);
  return sub(rest, ctx, json);
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], ctx: CliContext): Promise<number | void>;
}

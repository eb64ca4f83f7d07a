import crypto from 'node:crypto';
import path from 'node:path';
import { keyFile, type Paths } from './paths.js';
import { createFileOnce, FILE_MODE, readTextIfExists } from './files.js';

/** The slice of an OS keychain that AI Gate needs; injectable so tests can stand in for one. */
export interface Keychain {
  get(): string | undefined;
  set(value: string): void;
}

export type KeySource = 'keychain' | 'key-file';

const SERVICE = 'aigate';
/** One keychain entry per AI Gate home, so a second home (tests, a portable install) never shares a key. */
const entryFor = (paths: Paths) => `store-key-${crypto.createHash('sha256').update(path.resolve(paths.home)).digest('hex').slice(0, 16)}`;
const PREFIX = 'aigate:v1:';

/** The OS keychain through @napi-rs/keyring, or undefined where none answers (headless Linux, CI). */
export async function osKeychain(paths: Paths, env: NodeJS.ProcessEnv = process.env): Promise<Keychain | undefined> {
  if (env.AIGATE_KEYCHAIN === 'off') return undefined;
  try {
    const { Entry } = await import('@napi-rs/keyring');
    const entry = new Entry(SERVICE, entryFor(paths));
    return {
      get: () => entry.getPassword() ?? undefined,
      set: (value) => entry.setPassword(value),
    };
  } catch (err) {
    Vault.keychainProblem = (err as Error).message;
    return undefined;
  }
}

/** Encrypts and decrypts secrets with AES-256-GCM under one per-install key. */
export class Vault {
  /** Why the OS keychain could not be used, for `aigate doctor`. */
  static keychainProblem?: string;

  private constructor(
    private readonly key: Buffer,
    readonly source: KeySource,
  ) {}

  /**
   * Finds the key in the keychain, else in `data/secret.key` (0600), creating it
   * on first use. A key file that exists but is damaged is an error: a new key
   * would make every stored secret unreadable.
   */
  static async open(paths: Paths, keychain?: Keychain | null): Promise<Vault> {
    const chain = keychain === undefined ? await osKeychain(paths) : keychain ?? undefined;
    if (chain) {
      let encoded: string | undefined;
      try {
        encoded = chain.get();
        if (!encoded) {
          // An install that began without a keychain keeps the key it has.
          encoded = (await readKeyFile(paths)) ?? crypto.randomBytes(32).toString('base64');
          chain.set(encoded);
        }
      } catch (err) {
        // Some keychains answer reads but refuse writes (locked, or no Secret Service on a headless box).
        encoded = undefined;
        Vault.keychainProblem = (err as Error).message;
      }
      if (encoded) return new Vault(decodeKey(encoded, `the OS keychain entry ${SERVICE}/${entryFor(paths)}`), 'keychain');
    }
    let encoded = await readKeyFile(paths);
    if (!encoded) {
      // Two processes starting on a new install (tray + CLI) must end up with one key, or the secrets one
      // of them seals are lost: the first to create the file wins and the other reads it.
      const fresh = crypto.randomBytes(32).toString('base64');
      encoded = (await createFileOnce(keyFile(paths), fresh + '\n', FILE_MODE)) ? fresh : await readKeyFile(paths);
      if (!encoded) throw new Error(`${keyFile(paths)} is empty; AI Gate will not replace it, since that would lose every stored secret`);
    }
    return new Vault(decodeKey(encoded, keyFile(paths)), 'key-file');
  }

  /** For tests and tools that bring their own key. */
  static fromKey(key: Buffer): Vault {
    return new Vault(key, 'key-file');
  }

  seal(plain: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  open(sealed: string): string {
    if (!sealed.startsWith(PREFIX)) throw new Error('a stored secret is not in AI Gate\'s sealed format');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        'a stored secret cannot be decrypted with this install\'s key (was the key file or keychain entry replaced?); sign in to the account again',
      );
    }
  }

  sealJson(value: unknown): string {
    return this.seal(JSON.stringify(value));
  }

  openJson<T>(sealed: string): T {
    return JSON.parse(this.open(sealed)) as T;
  }
}

async function readKeyFile(paths: Paths): Promise<string | undefined> {
  return (await readTextIfExists(keyFile(paths)))?.trim() || undefined;
}

function decodeKey(encoded: string, where: string): Buffer {
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) throw new Error(`${where} does not hold a 32-byte key; AI Gate will not replace it, since that would lose every stored secret`);
  return key;
}

import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Vault, type Keychain } from '../src/state/secrets.js';
import { tempHome } from './_helpers.js';

/** An in-memory stand-in for the OS keychain (these headless machines have no Secret Service). */
function memoryKeychain(options: { refuseWrites?: boolean } = {}) {
  const chain = { value: undefined as string | undefined, writes: 0 };
  const keychain: Keychain = {
    get: () => chain.value,
    set: (v) => {
      if (options.refuseWrites) throw new Error('keychain is locked');
      chain.writes++;
      chain.value = v;
    },
  };
  return { chain, keychain };
}

describe('the vault', () => {
  it('keeps its key in the keychain and writes no key file', async () => {
    const home = await tempHome();
    const { chain, keychain } = memoryKeychain();
    const vault = await Vault.open(home.paths, keychain);
    assert.equal(vault.source, 'keychain');
    assert.equal(chain.writes, 1);
    const sealed = vault.seal('sk-secret-value');
    assert.ok(!sealed.includes('sk-secret-value'));
    // Reopened with the same keychain: the same key reads what was sealed.
    assert.equal((await Vault.open(home.paths, keychain)).open(sealed), 'sk-secret-value');
    await assert.rejects(fs.access(path.join(home.paths.data, 'secret.key')));
  });

  it('falls back to a 0600 key file when the keychain refuses writes', async () => {
    const home = await tempHome();
    const vault = await Vault.open(home.paths, memoryKeychain({ refuseWrites: true }).keychain);
    assert.equal(vault.source, 'key-file');
    assert.match(Vault.keychainProblem ?? '', /locked/);
    assert.equal((await fs.stat(path.join(home.paths.data, 'secret.key'))).mode & 0o777, 0o600);
  });

  it('moves an install that began with a key file into the keychain with the same key', async () => {
    const home = await tempHome();
    const before = await Vault.open(home.paths, null);
    const sealed = before.seal('token');
    const after = await Vault.open(home.paths, memoryKeychain().keychain);
    assert.equal(after.source, 'keychain');
    assert.equal(after.open(sealed), 'token');
  });

  it('refuses a damaged key file rather than replacing it', async () => {
    const home = await tempHome();
    await fs.mkdir(home.paths.data, { recursive: true });
    await fs.writeFile(path.join(home.paths.data, 'secret.key'), 'too-short');
    await assert.rejects(Vault.open(home.paths, null), /does not hold a 32-byte key/);
    assert.equal(await fs.readFile(path.join(home.paths.data, 'secret.key'), 'utf8'), 'too-short');
  });

  it('says what to do when a secret does not decrypt with this key', async () => {
    const one = await Vault.open((await tempHome()).paths, null);
    const other = await Vault.open((await tempHome()).paths, null);
    assert.throws(() => other.open(one.seal('x')), /sign in to the account again/);
  });
});

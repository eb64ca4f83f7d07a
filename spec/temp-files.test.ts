/** Temp files a killed process leaves (store.json, ~/.codex, data/backups) are removed by the next AI Gate, and only those. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sweepTempFiles } from '../src/state/files.js';
import { tempFilesDir } from '../src/state/paths.js';
import { Store } from '../src/state/store.js';
import { ROOT, tempHome, type TempHome } from './_helpers.js';

/** The temp paths that live journals under `dir` name and that exist right now. */
async function journalled(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await fs.readdir(dir).catch(() => [])) {
    const lines = (await fs.readFile(path.join(dir, name), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    for (const line of lines) if (await fs.stat(line).then(() => true, () => false)) found.push(line);
  }
  return found;
}

/** Starts the slow writer and SIGKILLs it once its journal names a temp file that exists; returns those. */
async function killMidWrite(home: TempHome, what: 'config' | 'backup', match: RegExp): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'spec/fixtures/processes/slow-writer.ts'), what], { env: home.env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (let i = 0; i < 1000; i++) {
      const temps = (await journalled(tempFilesDir(home.paths))).filter((p) => match.test(path.basename(p)));
      if (temps.length) {
        child.kill('SIGKILL');
        await exited;
        return temps;
      }
      await sleep(10);
    }
    throw new Error(`the writer never journalled a temp file matching ${match}`);
  } finally {
    child.kill('SIGKILL');
  }
}

describe('temp files a killed process left behind', () => {
  it('are removed from ~/.codex by the next process to open the store, while a look-alike of the user’s stays', async () => {
    const home = await tempHome();
    const lookalike = path.join(home.paths.codexHome, 'config.toml.20260101');
    await fs.writeFile(lookalike, 'model = "mine"\n');
    // The user's copy from earlier: only a temp the dead writer could have been making (newer than its
    // journal's last line) is removed by name.
    const earlier = new Date(Date.now() - 3_600_000);
    await fs.utimes(lookalike, earlier, earlier);
    const temps = await killMidWrite(home, 'config', /^config\.toml\.\d+$/);
    for (const t of temps) assert.ok(await fs.stat(t), `${t} was left by the kill`);

    const store = await Store.open(home.paths);
    store.close();
    for (const t of temps) await assert.rejects(fs.stat(t), { code: 'ENOENT' }, `${t} was swept`);
    assert.equal(await fs.readFile(lookalike, 'utf8'), 'model = "mine"\n');
    assert.deepEqual(await journalled(tempFilesDir(home.paths)), [], 'the dead process’s journal is gone too');
  });

  it('removes a backup folder that was being written', async () => {
    const home = await tempHome();
    const temps = await killMidWrite(home, 'backup', /^\.[\w-]+\.tmp$/);
    const backups = path.join(home.paths.data, 'backups');
    assert.equal((await fs.readdir(backups)).filter((n) => n.endsWith('.tmp')).length, 1);
    (await Store.open(home.paths)).close();
    assert.deepEqual(await fs.readdir(backups), []);
    for (const t of temps) await assert.rejects(fs.stat(t), { code: 'ENOENT' });
  });

  it('takes a temp written as a killed write began, and not one written later by a process still running', async () => {
    const home = await tempHome();
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => dead.once('exit', resolve));
    const target = path.join(home.paths.data, 'conversations.json');
    await fs.mkdir(tempFilesDir(home.paths), { recursive: true });
    const journal = path.join(tempFilesDir(home.paths), `${dead.pid}.0badcafe`);
    // Its last line: a write-file-atomic temp of conversations.json was about to be made (its name not known yet).
    await fs.writeFile(journal, `?${target}\n`);
    const killedAt = new Date(Date.now() - 3_600_000);
    await fs.utimes(journal, killedAt, killedAt);
    const killed = `${target}.123456789`;
    await fs.writeFile(killed, '{"half":');
    await fs.utimes(killed, new Date(killedAt.getTime() + 300), new Date(killedAt.getTime() + 300));
    const live = `${target}.987654321`;
    await fs.writeFile(live, '{"being":"written"}');
    assert.deepEqual(await sweepTempFiles(tempFilesDir(home.paths)), [killed]);
    assert.equal(await fs.readFile(live, 'utf8'), '{"being":"written"}', 'the running writer’s temp stays');
    await assert.rejects(fs.stat(journal), { code: 'ENOENT' });
  });

  it('leaves the temp files of a process that is still running', async () => {
    const home = await tempHome();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'spec/fixtures/processes/slow-writer.ts'), 'config'], { env: home.env, stdio: ['ignore', 'pipe', 'inherit'] });
    home.defer(() => child.kill('SIGKILL'));
    let temps: string[] = [];
    for (let i = 0; i < 1000 && !temps.length; i++) {
      temps = (await journalled(tempFilesDir(home.paths))).filter((p) => /^config\.toml\.\d+$/.test(path.basename(p)));
      if (!temps.length) await sleep(10);
    }
    assert.ok(temps.length, 'the writer journalled its temp file');
    child.kill('SIGSTOP'); // still alive, just not writing: its temp must survive another process's sweep
    home.defer(() => child.kill('SIGCONT'));
    (await Store.open(home.paths)).close();
    for (const t of temps) assert.ok(await fs.stat(t), `${t} of a live process was kept`);
  });
});

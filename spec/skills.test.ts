import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bundledSkillsDir, installSkill, listSkills, readFrontMatter, removeSkill, type SkillError } from '../src/state/codex/skills.js';
import { adminRequest, ensureBuilt, openState, ROOT, runCli, startGateway, tempHome } from './_helpers.js';

const BUNDLED = 'migrating-codex-history';

describe('skills', () => {
  it('finds the bundled skills/ folder from the source tree and from the built bundle', async () => {
    assert.equal(bundledSkillsDir(), path.join(ROOT, 'skills'));
    assert.equal(bundledSkillsDir(path.join(ROOT, 'dist/cli')), path.join(ROOT, 'skills'));
  });

  it('ships migrating-codex-history with front matter that tells Codex to dry-run, ask, then migrate', async () => {
    const text = await fs.readFile(path.join(ROOT, 'skills', BUNDLED, 'SKILL.md'), 'utf8');
    const meta = readFrontMatter(text, 'SKILL.md');
    assert.equal(meta.name, BUNDLED);
    assert.ok(meta.description.length > 40);
    const dry = text.indexOf('aigate history migrate --from openai --to aigate --dry-run');
    const ask = text.indexOf('ask whether to go ahead');
    const real = text.indexOf('aigate history migrate --from openai --to aigate\n');
    assert.ok(dry > 0 && ask > dry && real > ask, 'dry run, then ask, then the real run');
  });

  it('installs, lists and removes a bundled skill', async () => {
    const home = await tempHome();
    const ctx = await openState(home);
    assert.deepEqual(await listSkills(ctx), [{ name: BUNDLED, description: (await listSkills(ctx))[0]!.description, bundled: true, installed: false }]);
    const first = await installSkill(ctx, BUNDLED);
    assert.equal(first.replaced, false);
    const installed = path.join(home.paths.codexHome, 'skills', BUNDLED, 'SKILL.md');
    assert.equal(await fs.readFile(installed, 'utf8'), await fs.readFile(path.join(ROOT, 'skills', BUNDLED, 'SKILL.md'), 'utf8'));
    assert.equal((await installSkill(ctx, BUNDLED)).replaced, true);
    assert.equal((await listSkills(ctx))[0]!.installed, true);
    await removeSkill(ctx, BUNDLED);
    await assert.rejects(fs.stat(installed), { code: 'ENOENT' });
  });

  it('leaves the user\'s own skills alone and refuses unknown names', async () => {
    const home = await tempHome();
    const ctx = await openState(home);
    const own = path.join(home.paths.codexHome, 'skills', 'my-skill');
    await fs.mkdir(own, { recursive: true });
    await fs.writeFile(path.join(own, 'SKILL.md'), '---\nname: my-skill\ndescription: mine\n---\nbody\n');
    const list = await listSkills(ctx);
    assert.deepEqual(list.find((s) => s.name === 'my-skill'), { name: 'my-skill', description: 'mine', bundled: false, installed: true });
    await assert.rejects(removeSkill(ctx, 'my-skill'), (e: SkillError) => e.status === 409 && /not installed by AI Gate/.test(e.message));
    await assert.rejects(installSkill(ctx, 'nope'), (e: SkillError) => e.status === 404 && /ships no skill "nope"/.test(e.message));
    await assert.rejects(installSkill(ctx, '../etc'), (e: SkillError) => e.status === 400);
    await fs.stat(path.join(own, 'SKILL.md'));
  });

  it('works through the CLI bundle', async () => {
    await ensureBuilt();
    const home = await tempHome();
    const install = await runCli(['skills', 'install', BUNDLED, '--json'], home.env);
    assert.equal(install.code, 0, install.stderr);
    const list = await runCli(['skills', 'list', '--json'], home.env);
    assert.deepEqual(JSON.parse(list.stdout).map((s: { name: string; installed: boolean }) => [s.name, s.installed]), [[BUNDLED, true]]);
  });
});

describe('admin API: skills', () => {
  it('lists, installs and removes', async () => {
    const home = await tempHome();
    const gw = await startGateway(home);
    const list = await adminRequest(gw, 'GET', '/aigate/api/skills');
    assert.deepEqual(list.json.map((s: { name: string; installed: boolean }) => [s.name, s.installed]), [[BUNDLED, false]]);
    const install = await adminRequest(gw, 'POST', `/aigate/api/skills/${BUNDLED}/install`);
    assert.equal(install.status, 200, install.text);
    await fs.stat(path.join(home.paths.codexHome, 'skills', BUNDLED, 'SKILL.md'));
    assert.equal((await adminRequest(gw, 'POST', '/aigate/api/skills/nope/install')).status, 404);
    assert.equal((await adminRequest(gw, 'DELETE', `/aigate/api/skills/${BUNDLED}`)).status, 200);
    assert.equal((await adminRequest(gw, 'DELETE', `/aigate/api/skills/${BUNDLED}`)).status, 404);
  });
});

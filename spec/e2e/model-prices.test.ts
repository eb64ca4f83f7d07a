/** The models Codex ships with: each has a price in the shipped table, or is listed as having none. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { PRICE_TABLE } from '../../src/state/stats/prices.js';
import { tempHome } from '../_helpers.js';
import { assertLoopbackOnly, CODEX_BIN } from './_codex.js';

before(assertLoopbackOnly);

describe("Codex's bundled model list", () => {
  it('is covered by the price table: priced, or named as unpriced with the reason', async () => {
    const home = await tempHome();
    const { stdout } = await promisify(execFile)(CODEX_BIN, ['debug', 'models', '--bundled'], { env: { PATH: process.env.PATH, HOME: home.dir, CODEX_HOME: home.paths.codexHome } });
    const slugs = (JSON.parse(stdout).models as { slug: string }[]).map((m) => m.slug);
    assert.ok(slugs.length >= 5, `only ${slugs.length} models listed`);
    const missing = slugs.filter((s) => !(s in PRICE_TABLE.models) && !(s in PRICE_TABLE.unpriced));
    assert.deepEqual(missing, [], 'add these to src/state/stats/prices.json, with a source, or to its "unpriced" list');
    assert.ok(slugs.filter((s) => s.startsWith('gpt-6') || s.startsWith('gpt-5')).every((s) => s in PRICE_TABLE.models), 'every gpt-5 and gpt-6 model has a price');
  });
});

/** Every account out of quota, with the real Codex CLI: its own message says which account is back when. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatResetTime } from '../../src/state/account-status.js';
import { addProvider, startGateway, tempHome, TestClock } from '../_helpers.js';
import { startMockUpstream } from '../mock-upstream.js';
import { assertLoopbackOnly, execArgs, providerArgs, runCodex } from './_codex.js';

before(assertLoopbackOnly);

describe('all accounts out of quota', () => {
  it('makes Codex print every account and its reset time in its usage-limit message', async () => {
    const home = await tempHome();
    const clock = new TestClock();
    const gw = await startGateway(home, { clock });
    const resets: Record<string, number> = { work: Math.floor(clock.now() / 1000) + 3 * 3600 + 17 * 60, home: Math.floor(clock.now() / 1000) + 2 * 86_400 };
    for (const name of ['work', 'home']) {
      const mock = await startMockUpstream({ tag: name });
      after(() => mock.close());
      mock.plans.push({ kind: 'usage-limit', resetsAt: resets[name]! });
      await addProvider(gw, name, `${mock.url}/v1`);
    }
    const run = await runCodex(execArgs('Say hello', providerArgs(gw.base, { envKey: 'GW_KEY' })), { home: home.dir, codexHome: home.paths.codexHome, extra: { GW_KEY: 'codex-side' } });
    const printed = run.stdout + run.stderr;
    assert.notEqual(run.code, 0, 'Codex stops: there is no account to answer');
    const at = (name: string) => formatResetTime(resets[name]! * 1000, clock.now());
    const expected = `AI Gate: work resets ${at('work')}, home resets ${at('home')}`;
    // Codex: "You’ve hit your usage limit. <x-codex-promo-message>, or try again at <the earliest resets_at>."
    assert.ok(printed.includes(`hit your usage limit. ${expected}, or try again at`), `Codex printed:\n${printed}`);
  });
});

/**
 * A long Codex session in AI Gate's default setup: the real Codex CLI, its
 * built-in `openai` provider rerouted to the gateway (`openai_base_url`),
 * auto-compaction forced low so Codex compacts remotely all along, and behind
 * the gateway ChatGPT accounts (one mock backend, one mock per account) and
 * third-party providers — each mock refusing what another account made.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after } from 'node:test';
import type { HandoverEvent } from '../../src/state/events.js';
import { addOfficial, addProvider, codexAuthJson, officialTokens, startGateway, tempHome } from '../_helpers.js';
import { startMockChatgpt } from '../mock-chatgpt.js';
import { leaks, startMockUpstream, type MockOptions, type MockUpstream } from '../mock-upstream.js';
import { builtinArgs, execArgs, runCodex, type CodexRun } from './_codex.js';

/** Every answer reports this much input: past `model_auto_compact_token_limit`, so Codex compacts before each turn. */
export const HEAVY_USAGE = { input_tokens: 9000, input_tokens_details: { cached_tokens: 1000 }, output_tokens: 60, output_tokens_details: { reasoning_tokens: 20 }, total_tokens: 9060 };

export interface SessionOptions {
  /** ChatGPT accounts, by tag (`A` → ChatGPT account id `acct-a`), in failover order. */
  official?: string[];
  /** Third-party providers, by tag, with their mock's options. */
  thirdParty?: Record<string, Partial<MockOptions>>;
  /** How Codex itself is signed in (AI Gate replaces its credentials either way). */
  login: 'chatgpt' | 'apikey';
  /** Options for every mock (per tag in `each`). */
  mock?: Partial<MockOptions>;
  each?: Record<string, Partial<MockOptions>>;
}

export async function longSession(o: SessionOptions) {
  const home = await tempHome('aigate-e2e-session-');
  const officials = o.official ?? [];
  const base = (tag: string): MockOptions => ({ tag, reasoning: true, usage: HEAVY_USAGE, ...o.mock, ...o.each?.[tag] });
  const chatgpt = await startMockChatgpt(Object.fromEntries(officials.map((tag) => [`acct-${tag.toLowerCase()}`, base(tag)])));
  const sideband = await startMockUpstream({ tag: 'side' });
  after(() => Promise.all([chatgpt.close(), sideband.close()]));
  const env = { ...home.env, AIGATE_CHATGPT_BASE_URL: chatgpt.baseUrl };
  const gw = await startGateway({ ...home, env }, { env });
  const mocks: Record<string, MockUpstream> = {};
  for (const tag of officials) {
    await addOfficial(gw, tag, { accountId: `acct-${tag.toLowerCase()}` });
    mocks[tag] = chatgpt.accounts[`acct-${tag.toLowerCase()}`]!;
  }
  for (const [tag, options] of Object.entries(o.thirdParty ?? {})) {
    mocks[tag] = await startMockUpstream({ ...base(tag), ...options });
    after(() => mocks[tag]!.close());
    await addProvider(gw, tag, `${mocks[tag]!.url}/v1`);
  }
  const auth = o.login === 'chatgpt' ? codexAuthJson(officialTokens({ accountId: 'acct-codex' })) : JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-codex-own-key' });
  await fs.writeFile(path.join(home.paths.codexHome, 'auth.json'), auth, { mode: 0o600 });
  const handovers: HandoverEvent[] = [];
  gw.bus.on('handover', (e) => handovers.push(e));
  const config = builtinArgs(gw.base, `${sideband.url}/backend-api/`, ['-c', 'model_auto_compact_token_limit=5000']);
  let turns = 0;
  const turn = (prompt: string): Promise<CodexRun> => runCodex(execArgs(prompt, config, turns++ > 0), { home: home.dir, codexHome: home.paths.codexHome });

  /** The requests each account saw of each kind: compaction, turn (summary requests count as turns). */
  const requests = () =>
    Object.fromEntries(Object.entries(mocks).map(([tag, m]) => [tag, m.seen.filter((s) => s.method === 'POST').map((s) => (s.json?.input?.at(-1)?.type === 'compaction_trigger' ? 'compact' : 'turn'))]));
  /** Runs each prompt as a turn of the conversation; every one must complete, answered by account `tag`. */
  const turnsOn = async (tag: string, prompts: string[]): Promise<void> => {
    for (const prompt of prompts) {
      const run = await turn(prompt);
      assert.equal(run.code, 0, `${prompt}: ${failures(run)}`);
      assert.match(run.stdout, new RegExp(`Hello from ${tag}\\.`), prompt);
    }
  };
  return { home, gw, mocks, turn, turnsOn, leaks: () => leaks(mocks), requests, handovers };
}

/** The last request an account saw that was a turn (not a compaction): its input items. */
export const lastTurnInput = (mock: MockUpstream): any[] =>
  mock.seen.filter((s) => s.method === 'POST' && s.json?.input?.at(-1)?.type !== 'compaction_trigger').at(-1)?.json.input ?? [];

export { compactionBlobs } from '../mock-model.js';

export const failures = (run: CodexRun) => `exit ${run.code}: ${run.stderr.split('\n').filter(Boolean).slice(-3).join(' | ')}`;

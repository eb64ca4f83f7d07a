/**
 * The long run: 24 turns with the real Codex CLI on three ChatGPT accounts that each fail a quarter of
 * their requests at random (429 with short resets, 5xx, streams cut mid-way, connection resets,
 * `response.failed` with quota or overload codes, early or late), compactions before every turn and a
 * tool call every few turns — so failovers land on compaction requests and tool follow-ups alike.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { bodyText, seeded } from '../mock-upstream.js';
import { assertLoopbackOnly } from './_codex.js';
import { failures, longSession } from './_sessions.js';

before(assertLoopbackOnly);

const TURNS = 24;
const SEEDS: Record<string, number> = { A: 101, B: 202, C: 303 };

describe('a 24-turn session while every account fails at random', () => {
  it('completes at least 23 turns, never sends an account another’s state, and every tool output reaches the backend', async () => {
    const s = await longSession({
      login: 'chatgpt',
      official: ['A', 'B', 'C'],
      mock: { tools: true },
      each: Object.fromEntries(Object.entries(SEEDS).map(([tag, seed]) => [tag, { chaos: { rate: 0.25, random: seeded(seed) } }])),
    });
    const started = performance.now();
    const lost: string[] = [];
    const tools: string[] = [];
    let completed = 0;
    for (let i = 1; i <= TURNS; i++) {
      const tool = i % 4 === 0 ? `t${i}` : undefined;
      if (tool) tools.push(tool);
      const run = await s.turn(`turn ${i}${tool ? ` — run the tool [tool:${tool}]` : ''}`);
      if (run.code === 0 && /Hello from [ABC]\./.test(run.stdout)) completed++;
      else lost.push(`turn ${i}: ${failures(run)}`);
    }
    const seen = Object.values(s.mocks).flatMap((m) => m.seen.map(bodyText));
    const missingTools = tools.filter((id) => !seen.some((body) => body.includes('function_call_output') && body.includes(`tool-output-${id}`)));
    const faults = Object.fromEntries(Object.entries(s.mocks).map(([tag, m]) => [tag, m.log.filter((k) => !['ok', 'tool-call'].includes(k)).length]));
    const requests = s.requests();
    const moves = s.handovers.filter((e) => e.outcome === 'compacted');
    const moveMs = moves.map((e) => e.ms ?? 0).sort((a, b) => a - b);
    console.log(
      `long run: ${completed}/${TURNS} turns in ${Math.round((performance.now() - started) / 1000)} s; faults injected ${JSON.stringify(faults)}; ` +
        `upstream requests ${JSON.stringify(Object.fromEntries(Object.entries(requests).map(([t, r]) => [t, `${r.length} (${r.filter((k) => k === 'compact').length} compactions)`])))}; ` +
        `compactions moved to another account ${moves.length} (one extra upstream request each, median ${Math.round(moveMs[moveMs.length >> 1] ?? 0)} ms); ` +
        `foreign state sent ${s.leaks().length}; refused ${Object.values(s.mocks).reduce((n, m) => n + m.refused.length, 0)}; tool outputs delivered ${tools.length - missingTools.length}/${tools.length}`,
    );
    assert.ok(completed >= TURNS - 1, `only ${completed}/${TURNS} turns completed:\n${lost.join('\n')}`);
    assert.ok(Object.values(faults).reduce((a, b) => a + b, 0) >= 6, 'the run really injected faults');
    assert.ok(Object.values(requests).flat().filter((k) => k === 'compact').length >= TURNS, 'compactions happened throughout');
    assert.deepEqual(s.leaks(), []);
    assert.deepEqual(missingTools, []);
  });
});

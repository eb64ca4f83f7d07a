import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseTap } from '../src/proxy/sse-tap.js';
import { sseEvent, usage } from './mock-upstream.js';

const completed = (outputBytes: number) =>
  sseEvent('response.completed', { response: { id: 'r', status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: 'y'.repeat(outputBytes) }] }], usage } });

function tapIn(stream: string, size: number) {
  const tap = new ResponseTap();
  const bytes = Buffer.from(stream);
  for (let i = 0; i < bytes.length; i += size) tap.push(bytes.subarray(i, i + size));
  return tap.result();
}

const expectedUsage = { inputTokens: 120, cachedTokens: 20, outputTokens: 30, reasoningTokens: 8, totalTokens: 150 };

describe('the SSE tap', () => {
  const deltas = Array.from({ length: 50 }, (_, i) => sseEvent('response.output_text.delta', { delta: `d${i}` })).join('');
  for (const outputBytes of [10, 70_000, 300_000]) {
    for (const size of [1, 2, 3, 7, 4096, 65_536, 1e9]) {
      it(`finds response.completed and its usage (${outputBytes} B of output, ${size} B chunks)`, () => {
        const r = tapIn(sseEvent('response.created', { response: { id: 'r' } }) + deltas + completed(outputBytes), size);
        assert.equal(r.lastType, 'response.completed');
        assert.deepEqual(r.usage, expectedUsage);
      });
    }
  }

  for (const size of [1, 5, 4096]) {
    it(`sees a stream cut mid-event as unfinished (${size} B chunks)`, () => {
      const r = tapIn(sseEvent('response.created', {}) + deltas + 'data: {"type":"response.output_te', size);
      assert.notEqual(r.lastType, 'response.completed');
      assert.equal(r.usage, undefined);
    });
    it(`sees a stream that stops between events as unfinished (${size} B chunks)`, () => {
      assert.equal(tapIn(sseEvent('response.created', {}) + deltas, size).lastType, 'response.output_text.delta');
    });
  }

  it('reads the error of a final response.failed', () => {
    const r = tapIn(deltas + sseEvent('response.failed', { response: { error: { code: 'usage_limit_reached', resets_at: 123 } } }), 100);
    assert.equal(r.lastType, 'response.failed');
    assert.deepEqual((r.lastEvent?.response as { error: unknown }).error, { code: 'usage_limit_reached', resets_at: 123 });
  });

  it('reads usage from a JSON answer', () => {
    assert.deepEqual(tapIn(JSON.stringify({ id: 'r', output: [], usage }), 9).usage, expectedUsage);
  });
});

describe('the SSE tap keeps the last event only', () => {
  const stream = sseEvent('response.created', { response: { id: 'r' } }) + sseEvent('response.output_text.delta', { delta: 'x'.repeat(3000) }) + completed(200_000);
  for (const cuts of [[40], [40, 60], [stream.length - 300, stream.length - 20], [stream.indexOf('response.completed') - 5, stream.indexOf('response.completed') + 3]]) {
    it(`reads the type and usage of a last event that began in an earlier chunk (cut at ${cuts.join(', ')})`, () => {
      const tap = new ResponseTap();
      const bytes = Buffer.from(stream);
      let from = 0;
      for (const end of [...cuts, bytes.length]) {
        tap.push(bytes.subarray(from, end));
        from = end;
      }
      const r = tap.result();
      assert.equal(r.lastType, 'response.completed');
      assert.deepEqual(r.usage, expectedUsage);
      assert.equal(tap.bytes, bytes.length);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FailedMarker } from '../src/proxy/failed-marker.js';
import { HEAD_BYTES } from '../src/proxy/sse-tap.js';
import { sseEvent, usage } from './mock-upstream.js';

const NAME = 'response.failed';

/** Feeds `stream` in chunks cut at `cuts`; the offset in the stream where the marker first reports the name, or -1. */
function markedAt(stream: string, cuts: number[]): number {
  const bytes = Buffer.from(stream);
  const marker = new FailedMarker();
  const ends = [...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length];
  let from = 0;
  for (const end of ends) {
    const at = marker.find(bytes.subarray(from, end));
    if (at >= 0) return from + at;
    from = end;
  }
  return -1;
}

const everyCut = (stream: string) => Array.from({ length: Buffer.byteLength(stream) + 1 }, (_, i) => i);
const sizes = [1, 2, 3, 7, 13, 100, 511, 4096, 1e9];
const cutsOf = (stream: string, size: number) => Array.from({ length: Math.ceil(Buffer.byteLength(stream) / size) }, (_, i) => i * size);

const created = sseEvent('response.created', { response: { id: 'r1' } });
const delta = (text: string) => sseEvent('response.output_text.delta', { item_id: 'm', output_index: 0, content_index: 0, delta: text });
const failed = sseEvent('response.failed', { response: { id: 'r1', status: 'failed', error: { code: 'server_is_overloaded', message: 'overloaded' } } });
const completed = sseEvent('response.completed', { response: { id: 'r1', status: 'completed', output: [], usage } });

describe('the response.failed marker', () => {
  const stream = created + delta('x'.repeat(3000)) + delta('y'.repeat(70_000)) + failed;
  const name = stream.indexOf(NAME);

  for (const size of sizes) {
    it(`finds a late response.failed where its name begins (${size} B chunks)`, () => {
      const at = markedAt(stream, cutsOf(stream, size));
      // A name cut in two is reported at the start of its second part.
      assert.ok(at >= name && at < name + NAME.length, `reported at ${at}, name at ${name}`);
      const split = Math.floor(name / size) !== Math.floor((name + NAME.length - 1) / size);
      if (!split) assert.equal(at, name);
    });
  }

  it('finds it with the stream cut in two at any byte', () => {
    for (const cut of everyCut(created + failed)) {
      const at = markedAt(created + failed, [cut]);
      const begins = (created + failed).indexOf(NAME);
      assert.ok(at >= begins && at < begins + NAME.length, `cut at ${cut}: reported at ${at}`);
      if (cut <= begins || cut >= begins + NAME.length) assert.equal(at, begins, `cut at ${cut}`);
    }
  });

  it('finds it in an event that gives only data: lines and names its type after other keys', () => {
    const late = `data: {"response":{"id":"r1","status":"failed"},"type":"${NAME}"}\n\n`;
    for (const size of sizes) assert.equal(markedAt(created + late, cutsOf(created + late, size)) >= created.length, true, `${size} B chunks`);
  });

  for (const size of sizes) {
    it(`passes a long event that mentions the name only past its head (${size} B chunks)`, () => {
      const body = created + delta(`${'z'.repeat(HEAD_BYTES)} a ${NAME} event ends a stream`) + sseEvent('response.output_item.done', { item: { text: `${'w'.repeat(200_000)} ${NAME}` } }) + completed;
      assert.equal(markedAt(body, cutsOf(body, size)), -1);
    });
  }

  it('looks at the head of every event, however many a chunk holds and wherever they are cut', () => {
    const mention = delta(`a ${NAME} event ends a stream`);
    const body = created + delta('a'.repeat(5000)) + mention + completed;
    const begins = body.indexOf(NAME);
    for (const cut of everyCut(body).filter((c) => c % 7 === 0 || Math.abs(c - begins) < 20)) {
      const at = markedAt(body, [cut, cut + 2, cut + 4099]);
      assert.ok(at >= begins && at < begins + NAME.length, `cut at ${cut}: reported at ${at}, name at ${begins}`);
    }
  });

  it('starts afresh after a held event is let go', () => {
    const marker = new FailedMarker();
    assert.equal(marker.find(Buffer.from(`${created}event: respo`)), -1);
    marker.atEventStart();
    // Without the reset, "respo" + "nse.failed" would read as the name split between the chunks.
    assert.equal(marker.find(Buffer.from(`nse.failed is what a delta says\n\n`)), -1);
    assert.equal(marker.find(Buffer.from(failed)), failed.indexOf(NAME));
  });
});

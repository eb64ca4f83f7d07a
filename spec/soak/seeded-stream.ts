/**
 * The content of every stream the soak's mock upstream sends, derived from a
 * seed alone: the mock writes it, the client rebuilds it and compares byte for
 * byte, so a dropped, reordered or altered byte anywhere in the gateway shows.
 */
import { sseEvent, usage } from '../mock-upstream.js';

/** A small fast PRNG (mulberry32): the same seed gives the same text in every process. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?-\u00e9\u4e2d\u{1f600}';
const LETTERS = [...ALPHABET];

function text(next: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += LETTERS[Math.floor(next() * LETTERS.length)];
  return out;
}

export interface StreamShape {
  /** Text deltas in the answer. */
  events: number;
  /** Characters per delta (some are multi-byte: UTF-8 boundaries land mid-chunk). */
  deltaChars: number;
}

/** The SSE events of one complete answer for `seed`, each a separate buffer (the mock writes them one by one). */
export function seededEvents(seed: number, shape: StreamShape): Buffer[] {
  const next = prng(seed);
  const id = `resp_soak_${seed}`;
  const msgId = `msg_soak_${seed}`;
  const deltas = Array.from({ length: shape.events }, () => text(next, shape.deltaChars));
  const full = deltas.join('');
  const message = { id: msgId, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: full, annotations: [] }] };
  return [
    sseEvent('response.created', { response: { id, status: 'in_progress', output: [] } }),
    sseEvent('response.output_item.added', { output_index: 0, item: { id: msgId, type: 'message', role: 'assistant', content: [] } }),
    ...deltas.map((delta) => sseEvent('response.output_text.delta', { item_id: msgId, output_index: 0, content_index: 0, delta })),
    sseEvent('response.output_item.done', { output_index: 0, item: message }),
    sseEvent('response.completed', { response: { id, status: 'completed', output: [message], usage } }),
  ].map((e) => Buffer.from(e));
}

/** A huge answer: `count` deltas of ~48 KiB, each a copy of one seeded block with its index stamped in. */
export class BigStream {
  private readonly template: Buffer;
  private readonly indexAt: number;
  readonly head: Buffer;
  readonly tail: Buffer;

  constructor(
    readonly seed: number,
    readonly count: number,
  ) {
    const id = `resp_big_${seed}`;
    const block = text(prng(seed), 48 * 1024);
    this.template = Buffer.from(sseEvent('response.output_text.delta', { item_id: 'msg_big', output_index: 0, content_index: 0, idx: '00000000', delta: block }));
    this.indexAt = this.template.indexOf('"idx":"') + 7;
    this.head = Buffer.from(sseEvent('response.created', { response: { id, status: 'in_progress', output: [] } }));
    this.tail = Buffer.from(sseEvent('response.completed', { response: { id, status: 'completed', output: [], usage } }));
  }

  get eventBytes(): number {
    return this.template.length;
  }

  get totalBytes(): number {
    return this.head.length + this.count * this.template.length + this.tail.length;
  }

  /** The i-th delta event (a fresh buffer: the caller may hand it to a socket). */
  event(i: number): Buffer {
    const out = Buffer.from(this.template);
    out.write(String(i).padStart(8, '0'), this.indexAt, 'latin1');
    return out;
  }

  /** Every buffer of the stream in order, built lazily. */
  *buffers(): Generator<Buffer> {
    yield this.head;
    for (let i = 0; i < this.count; i++) yield this.event(i);
    yield this.tail;
  }
}

/**
 * Compares a stream as it arrives against the expected buffers, without
 * holding either: `push` each received chunk, then `end()`. Reports the first
 * differing offset, and whether what arrived is a clean prefix of the expected
 * stream (a cut stream that lost nothing before the cut).
 */
export class StreamCheck {
  private current?: Buffer;
  private offsetInCurrent = 0;
  private readonly expected: Iterator<Buffer>;
  received = 0;
  mismatchAt?: number;
  private expectedTotal = 0;

  constructor(expected: Iterable<Buffer>) {
    this.expected = expected[Symbol.iterator]();
  }

  push(chunk: Buffer): void {
    if (this.mismatchAt !== undefined) {
      this.received += chunk.length;
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      if (!this.current || this.offsetInCurrent === this.current.length) {
        const next = this.expected.next();
        if (next.done) {
          this.mismatchAt = this.received + at; // more bytes than the upstream sent
          break;
        }
        this.current = next.value;
        this.expectedTotal += this.current.length;
        this.offsetInCurrent = 0;
      }
      const n = Math.min(chunk.length - at, this.current.length - this.offsetInCurrent);
      if (chunk.compare(this.current, this.offsetInCurrent, this.offsetInCurrent + n, at, at + n) !== 0) {
        let i = 0;
        while (chunk[at + i] === this.current[this.offsetInCurrent + i]) i++;
        this.mismatchAt = this.received + at + i;
        break;
      }
      at += n;
      this.offsetInCurrent += n;
    }
    this.received += chunk.length;
  }

  /** `whole`: every expected byte arrived and nothing else; `prefix`: nothing wrong arrived (maybe cut short). */
  end(): { whole: boolean; prefix: boolean; received: number; mismatchAt?: number } {
    const prefix = this.mismatchAt === undefined;
    let whole = prefix && (!this.current || this.offsetInCurrent === this.current.length);
    if (whole && !this.expected.next().done) whole = false;
    return { whole, prefix, received: this.received, mismatchAt: this.mismatchAt };
  }
}

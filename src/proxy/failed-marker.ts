import { HEAD_BYTES } from './sse-tap.js';

const FAILED = Buffer.from('response.failed');
const BOUNDARY = Buffer.from('\n\n');
/** A name that begins this close to the end of what was searched may end in the next bytes. */
const SPAN = FAILED.length - 1;

/**
 * Finds where a `response.failed` may begin in a stream, also when the name is
 * cut across chunks (then at the start of the chunk where it ends).
 *
 * It looks only in the head of each event — its first HEAD_BYTES, where the
 * tap reads an event's type (see ResponseTap) — and skips the body of a long
 * event with a one-byte search for its end: a bulky stream's 200 KB
 * `output_item.done` costs a scan for `\n`, not a search for the name, which
 * on loopback was the largest of the relay's own costs per byte. An event whose type is
 * `response.failed` names it in its head, so nothing that could be withheld is
 * missed. Keeps the stream's last few bytes, never the chunks.
 */
export class FailedMarker {
  /** Bytes of the stream so far. */
  private offset = 0;
  /** Where the current event began, in the stream. */
  private eventStart = 0;
  /** The stream's last bytes after its last `\n` (a name holds none), at most SPAN of them. */
  private readonly tail = Buffer.alloc(SPAN);
  private tailLen = 0;
  private readonly scratch = Buffer.alloc(2 * SPAN);
  private lastByte = 0;

  /** The next bytes begin an event (what follows a held event once it is let go). */
  atEventStart(): void {
    this.eventStart = this.offset;
    this.tailLen = 0;
  }

  /** Where the name begins in `chunk`, or -1. */
  find(chunk: Buffer): number {
    const n = chunk.length;
    const base = this.offset;
    if (!n) return -1;
    this.offset += n;
    if (this.tailLen && this.endsHere(chunk, base)) return 0;
    let pos = 0;
    // A blank line split between the previous chunk and this one.
    if (base && this.lastByte === 0x0a && chunk[0] === 0x0a) {
      pos = 1;
      this.eventStart = base + 1;
    }
    if (this.eventStart + HEAD_BYTES - base >= n) {
      // The whole chunk lies within a head (the usual chunk of a chatty stream: one small event): one search,
      // and one more for where its last event begins unless the chunk ends with one.
      const at = chunk.indexOf(FAILED, pos);
      if (at >= 0) return at;
      const last = n >= 2 && chunk[n - 2] === 0x0a && chunk[n - 1] === 0x0a ? n - 2 : chunk.lastIndexOf(BOUNDARY);
      if (last >= 0) this.eventStart = base + last + 2;
      this.keepTail(chunk);
      return -1;
    }
    while (pos < n) {
      const next = nextEvent(chunk, pos);
      const headEnd = this.eventStart + HEAD_BYTES - base;
      if (headEnd > pos) {
        const stop = Math.min(next < 0 ? n : next, headEnd);
        // A name found here begins before `stop`: it holds no `\n`, and the search ends within SPAN of it.
        const at = stop + SPAN >= n ? chunk.indexOf(FAILED, pos) : chunk.subarray(pos, stop + SPAN).indexOf(FAILED);
        if (at >= 0) return stop + SPAN >= n ? at : pos + at;
      }
      if (next < 0) break;
      pos = next;
      this.eventStart = base + next;
    }
    this.keepTail(chunk);
    return -1;
  }

  /** A name that began in the kept tail, inside its event's head, and ends in `chunk`. */
  private endsHere(chunk: Buffer, base: number): boolean {
    this.tail.copy(this.scratch, 0, 0, this.tailLen);
    const len = this.tailLen + chunk.copy(this.scratch, this.tailLen, 0, SPAN);
    const at = this.scratch.subarray(0, len).indexOf(FAILED);
    return at >= 0 && base - this.tailLen + at < this.eventStart + HEAD_BYTES;
  }

  /** Keeps the stream's last bytes after its last `\n`, when a name could still begin there. */
  private keepTail(chunk: Buffer): void {
    const n = chunk.length;
    this.lastByte = chunk[n - 1]!;
    if (this.lastByte === 0x0a) {
      this.tailLen = 0;
      return;
    }
    let from = n;
    while (from > 0 && n - from < SPAN && chunk[from - 1] !== 0x0a) from--;
    const fresh = n - from;
    const tailStart = this.offset - Math.min(SPAN, fresh + (from === 0 ? this.tailLen : 0));
    if (tailStart >= this.eventStart + HEAD_BYTES) {
      this.tailLen = 0;
      return;
    }
    if (from === 0 && fresh < SPAN) {
      // The chunk is short and has no `\n`: the tail goes on from the previous one.
      const keep = Math.min(this.tailLen, SPAN - fresh);
      this.tail.copy(this.tail, 0, this.tailLen - keep, this.tailLen);
      chunk.copy(this.tail, keep);
      this.tailLen = keep + fresh;
    } else {
      chunk.copy(this.tail, 0, from);
      this.tailLen = fresh;
    }
  }
}

/**
 * Where the next event begins after `from` (just past a blank line), or -1. Lines are found with a
 * one-byte search, far cheaper than a two-byte one: in SSE, `\n` appears only at the end of a line.
 */
function nextEvent(chunk: Buffer, from: number): number {
  const n = chunk.length;
  for (let i = chunk.indexOf(0x0a, from > 0 ? from - 1 : 0); i >= 0 && i < n - 1; i = chunk.indexOf(0x0a, i + 1)) {
    if (chunk[i + 1] === 0x0a) return i + 2;
  }
  return -1;
}

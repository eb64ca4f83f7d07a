/**
 * An upper bound on what a zstd body decompresses to, read from its frame and
 * block headers without decompressing anything (RFC 8878 §3.1). fzstd has no
 * output limit: a 30 KB body of RLE blocks inflates to gigabytes, and a frame
 * header alone makes it allocate the declared window (up to 2 GB). So the
 * gateway bounds a body first and decompresses only what fits.
 *
 * Returns `undefined` for bytes that are not a well-formed sequence of frames.
 */
const MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;

export function zstdBound(buf: Uint8Array): number | undefined {
  const u32 = (at: number) => (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
  let at = 0;
  let total = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) return undefined;
    const magic = u32(at);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // A skippable frame: metadata with no output.
      if (at + 8 > buf.length) return undefined;
      at += 8 + u32(at + 4);
      continue;
    }
    if (magic !== MAGIC || at + 5 > buf.length) return undefined;
    const flags = buf[at + 4]!;
    const singleSegment = (flags >> 5) & 1;
    const sizeFlag = flags >> 6;
    const dictBytes = [0, 1, 2, 4][flags & 3]!;
    let p = at + 5;
    let window = 0;
    if (!singleSegment) {
      const wd = buf[p++]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    p += dictBytes;
    const sizeBytes = sizeFlag ? 1 << sizeFlag : singleSegment;
    let contentSize = 0;
    for (let i = 0; i < sizeBytes; i++) contentSize += (buf[p + i] ?? 0) * 2 ** (8 * i);
    if (sizeFlag === 1) contentSize += 256;
    p += sizeBytes;
    if (singleSegment) window = contentSize;
    let frame = 0;
    for (let last = 0; !last; ) {
      if (p + 3 > buf.length) return undefined;
      const header = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16);
      p += 3;
      last = header & 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) return undefined;
      frame += type === 2 ? Math.min(BLOCK_MAX, window || BLOCK_MAX) : size; // raw and RLE: exactly `size` bytes out
      p += type === 1 ? 1 : size;
    }
    if (flags & 4) p += 4; // content checksum
    if (p > buf.length) return undefined;
    // A declared size is what the decoder allocates, and all it writes: it is the bound. Without one, it
    // holds the window beside the output, and a compressed block yields at most 128 KiB (or the window).
    total += sizeBytes ? contentSize : frame + window;
    at = p;
  }
  return total;
}

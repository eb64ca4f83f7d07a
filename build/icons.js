// Draws AI Gate's icons as PNGs with nothing but node:zlib: `node build/icons.js` writes assets/.
// The glyph is a gate (an arch with a doorway); tray states: off (dimmed), on, exhausted (the doorway shut).
// macOS gets black template images (the menu bar tints them); Windows and Linux get coloured ones.
import { writeFileSync, mkdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const OUT = new URL('../assets/', import.meta.url);

// --- PNG encoding -------------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** `rgba` is width*height*4 bytes, straight alpha. */
function png(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

// --- shapes on a 16×16 design grid --------------------------------------
/** An arch: a rectangle from `bottom` up to `spring`, topped by a half circle. */
const inArch = (x, y, { left, right, spring, bottom }) => {
  if (x < left || x > right || y > bottom) return false;
  if (y >= spring) return true;
  const cx = (left + right) / 2;
  const r = (right - left) / 2;
  return (x - cx) ** 2 + (y - spring) ** 2 <= r * r;
};
const OUTER = { left: 1.5, right: 14.5, spring: 8, bottom: 15 };
const DOOR = { left: 5.25, right: 10.75, spring: 8.5, bottom: 16 };
/** Exhausted: the doorway shut by two doors, a thin seam between them. */
const SEAM = { left: 7.4, right: 8.6 };

/** Coverage of the gate glyph at a point of the 16-unit grid. */
function gate(x, y, state) {
  const outer = inArch(x, y, OUTER);
  if (state !== 'exhausted') return outer && !inArch(x, y, DOOR);
  return outer && !(inArch(x, y, DOOR) && x >= SEAM.left && x <= SEAM.right && y >= 6.5);
}

/** Rasterises `cover(x, y)` (16-unit grid) at `size` pixels with 4×4 supersampling. */
function raster(size, cover, colour, alpha = 1, margin = 0) {
  const rgba = Buffer.alloc(size * size * 4);
  const n = 4;
  const unit = (16 + 2 * margin) / size;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < n; sy++) for (let sx = 0; sx < n; sx++) if (cover((px + (sx + 0.5) / n) * unit - margin, (py + (sy + 0.5) / n) * unit - margin)) hits++;
      const i = (py * size + px) * 4;
      rgba.set([...colour, Math.round((255 * alpha * hits) / (n * n))], i);
    }
  }
  return rgba;
}

// --- the app icon: a rounded square with a gradient and a white gate ----
function appIcon(size) {
  const rgba = Buffer.alloc(size * size * 4);
  const radius = size * 0.225;
  const inset = size * 0.06;
  const top = [76, 110, 245];
  const bottom = [112, 72, 232];
  const glyphScale = (size - 2 * inset) * 0.56;
  const glyphOrigin = (size - glyphScale) / 2;
  const n = 2;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0;
      let fg = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const x = px + (sx + 0.5) / n;
          const y = py + (sy + 0.5) / n;
          const dx = Math.max(inset + radius - x, 0, x - (size - inset - radius));
          const dy = Math.max(inset + radius - y, 0, y - (size - inset - radius));
          if (dx * dx + dy * dy > radius * radius) continue;
          bg++;
          if (gate(((x - glyphOrigin) / glyphScale) * 16, ((y - glyphOrigin) / glyphScale) * 16, 'on')) fg++;
        }
      }
      const t = py / size;
      const base = top.map((c, k) => Math.round(c + (bottom[k] - c) * t));
      const f = fg / (n * n);
      const i = (py * size + px) * 4;
      rgba.set([...base.map((c) => Math.round(c + (255 - c) * (bg ? f / (bg / (n * n)) : 0))), Math.round((255 * bg) / (n * n))], i);
    }
  }
  return rgba;
}

const COLOURS = { off: [134, 142, 150], on: [47, 158, 68], exhausted: [240, 140, 0] };
const NAMES = { off: 'Off', on: 'On', exhausted: 'Exhausted' };

mkdirSync(OUT, { recursive: true });
const write = (name, size, rgba) => writeFileSync(new URL(name, OUT), png(size, size, rgba));
for (const state of ['off', 'on', 'exhausted']) {
  const cover = (x, y) => gate(x, y, state);
  // Template images: black, with alpha carrying the shape; "off" is drawn dimmed, as macOS does for inactive items.
  const alpha = state === 'off' ? 0.45 : 1;
  for (const [suffix, size] of [['', 16], ['@2x', 32]]) {
    write(`tray${NAMES[state]}Template${suffix}.png`, size, raster(size, cover, [0, 0, 0], alpha, 0));
    write(`tray-${state}${suffix}.png`, size, raster(size, cover, COLOURS[state], 1, 0));
  }
}
write('icon.png', 1024, appIcon(1024));
console.log(`icons written to ${OUT.pathname}`);

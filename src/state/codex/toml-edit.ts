import { isDeepStrictEqual } from 'node:util';
import { parse, parseDocument } from '@decimalturn/toml-patch';
import { encodeKey, encodeValue, isTable, valueAtPath, type TomlTable, type TomlValue } from './toml-value.js';

/**
 * Surgical, line-level edits to a TOML text, located with toml-patch's syntax tree.
 *
 * Why not toml-patch's own `patch(text, newObject)`: on 3.3.0 it gets the
 * simple cases right (a top-level key added before the first table and removed
 * again, a value changed in place) but a key added to a table lands after the
 * next table's leading comment, a new table inside an existing parent becomes a
 * root-level dotted key, and removing a table also drops the comment that
 * heads the following one. AI Gate's promise is "only the lines it must", so
 * each edit here touches the exact lines of the key or table concerned, and
 * every result is re-parsed and compared with the intended data before it is
 * accepted: a wrong edit is refused, never written.
 */
export type TomlPath = readonly string[];
export type TomlEdit =
  | { op: 'set'; path: TomlPath; value: TomlValue }
  | { op: 'delete'; path: TomlPath }
  | { op: 'add-table'; path: TomlPath; value: TomlTable };

export class TomlEditError extends Error {
  readonly status = 409;
  readonly expose = true;
}

interface Loc { start: { line: number; column: number }; end: { line: number; column: number } }
/** The slice of toml-patch's syntax tree used here (its node types are not exported). */
interface Node {
  type: string;
  loc: Loc;
  key: { value: string[]; loc: Loc; item: { value: string[] } };
  value: { type: string; loc: Loc };
  items: Node[];
}
interface Entry { path: string[]; node: Node; table: string[] }
interface Section { path: string[]; node: Node; array: boolean; entries: Entry[] }

/** The text split into lines that keep their own terminators, so CRLF and LF survive untouched. */
class Lines {
  readonly lines: string[];
  readonly eol: string;
  constructor(text: string) {
    this.lines = text === '' ? [] : text.split(/(?<=\n)/);
    this.eol = /\r\n/.exec(text)?.[0] ?? '\n';
  }
  offset(line: number, column: number): number {
    let at = 0;
    for (let i = 0; i < line - 1; i++) at += this.lines[i]!.length;
    return at + column;
  }
  blank(index: number): boolean {
    return index >= 0 && index < this.lines.length && this.lines[index]!.trim() === '';
  }
}

const samePath = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((k, i) => k === b[i]);
const startsWith = (a: readonly string[], prefix: readonly string[]) => prefix.length <= a.length && prefix.every((k, i) => k === a[i]);

function outline(text: string): { root: Entry[]; sections: Section[] } {
  const root: Entry[] = [];
  const sections: Section[] = [];
  for (const block of parseDocument(text).cst as unknown as Node[]) {
    if (block.type === 'KeyValue') root.push({ path: block.key.value, node: block, table: [] });
    if (block.type === 'Table' || block.type === 'TableArray') {
      const path: string[] = block.key.item.value;
      const entries = block.items.filter((n) => n.type === 'KeyValue').map((n) => ({ path: [...path, ...n.key.value], node: n, table: path }));
      sections.push({ path, node: block, array: block.type === 'TableArray', entries });
    }
  }
  return { root, sections };
}

/** Applies the edits in order; each result is checked against the intended data. */
export function editToml(text: string, edits: readonly TomlEdit[]): string {
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  let body = text.slice(bom.length);
  for (const requested of edits) {
    for (const edit of expand(requested, parse(body))) body = applyChecked(body, edit);
  }
  return bom + body;
}

function applyChecked(body: string, edit: TomlEdit): string {
  const expected = parse(body) as TomlTable;
  intend(expected, edit);
  let next = apply(body, edit);
  // A file that ends without a newline keeps ending without one.
  if (body !== '' && !body.endsWith('\n') && next.endsWith('\n')) next = next.replace(/\r?\n$/, '');
  let actual: unknown;
  try {
    actual = parse(next);
  } catch (err) {
    throw refused(edit, (err as Error).message.split('\n').pop() ?? 'it no longer parses');
  }
  if (!isDeepStrictEqual(plain(actual), plain(expected))) throw refused(edit, 'the result did not hold the intended values');
  return next;
}

/**
 * Parsed tables have a null prototype; the intended data is built from plain
 * objects. Compare content only, and treat an empty table as absent: removing
 * the last `[mcp_servers.x]` also removes the implicit `mcp_servers`.
 */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (!value || typeof value !== 'object' || value instanceof Date) return value;
  const entries = Object.entries(value).map(([k, v]) => [k, plain(v)] as const);
  return Object.fromEntries(entries.filter(([, v]) => !(v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && Object.keys(v).length === 0)));
}

function refused(edit: TomlEdit, why: string): TomlEditError {
  return new TomlEditError(
    `AI Gate could not edit ${edit.path.join('.')} in config.toml without disturbing the rest (${why}); nothing was written. Edit that entry by hand, or report this with the file's layout.`,
  );
}

/**
 * Setting a table where a table already is becomes per-key edits, so
 * `[mcp_servers.x.env]` stays a section and unchanged keys keep their lines.
 */
function expand(edit: TomlEdit, data: TomlTable): TomlEdit[] {
  const current = valueAtPath(data, edit.path);
  if (edit.op !== 'set' || !isTable(edit.value) || !isTable(current)) return [edit];
  const out: TomlEdit[] = [];
  for (const key of Object.keys(current)) if (!(key in edit.value)) out.push({ op: 'delete', path: [...edit.path, key] });
  for (const [key, value] of Object.entries(edit.value)) {
    if (!isDeepStrictEqual(plain(current[key]), plain(value))) out.push(...expand({ op: 'set', path: [...edit.path, key], value }, data));
  }
  return out;
}

/** The same edit applied to parsed data: what the edited text must parse to. */
function intend(data: TomlTable, edit: TomlEdit): void {
  const parent = edit.path.slice(0, -1).reduce<TomlTable>((t, k) => (t[k] ??= {}) as TomlTable, data);
  const key = edit.path[edit.path.length - 1]!;
  if (edit.op === 'delete') delete parent[key];
  else parent[key] = structuredClone(edit.value);
}

function apply(text: string, edit: TomlEdit): string {
  const doc = outline(text);
  const lines = new Lines(text);
  if (doc.sections.some((s) => s.array && startsWith(edit.path, s.path))) {
    throw refused(edit, 'it lives in an array of tables');
  }
  if (edit.op === 'delete') return remove(text, lines, doc, edit.path);
  if (edit.op === 'add-table') return addTable(text, lines, doc, edit.path, edit.value);
  return set(text, lines, doc, edit.path, edit.value);
}

function entries(doc: { root: Entry[]; sections: Section[] }): Entry[] {
  return [...doc.root, ...doc.sections.filter((s) => !s.array).flatMap((s) => s.entries)];
}

/** The key=value whose key is `path`, or the one holding it inside an inline table. */
function locate(doc: { root: Entry[]; sections: Section[] }, path: TomlPath): { entry: Entry; inline: boolean } | undefined {
  for (const entry of entries(doc)) {
    if (samePath(entry.path, path)) return { entry, inline: false };
    if (startsWith(path, entry.path) && entry.node.value.type === 'InlineTable') return { entry, inline: true };
  }
  return undefined;
}

function replaceValue(text: string, lines: Lines, entry: Entry, value: TomlValue): string {
  const v = entry.node.value.loc;
  return text.slice(0, lines.offset(v.start.line, v.start.column)) + encodeValue(value) + text.slice(lines.offset(v.end.line, v.end.column));
}

/** The data now at `path` in `text`, for rewriting an inline table whole. */
function valueAt(text: string, path: readonly string[]): TomlValue {
  return valueAtPath(parse(text), path) as TomlValue;
}

function set(text: string, lines: Lines, doc: ReturnType<typeof outline>, path: TomlPath, value: TomlValue): string {
  const found = locate(doc, path);
  if (found && !found.inline) return replaceValue(text, lines, found.entry, value);
  if (found) {
    const data = structuredClone(valueAt(text, found.entry.path)) as TomlTable;
    intend(data, { op: 'set', path: path.slice(found.entry.path.length), value });
    return replaceValue(text, lines, found.entry, data);
  }
  const parent = path.slice(0, -1);
  if (doc.sections.some((s) => samePath(s.path, path))) throw new TomlEditError(`${path.join('.')} is a table in config.toml, not a value`);
  const section = doc.sections.find((s) => !s.array && samePath(s.path, parent));
  // A sibling written with dotted keys (`a.b = 1`) shows where the parent lives when it has no header.
  const sibling = entries(doc).filter((e) => startsWith(e.path, parent) && e.path.length > parent.length).pop();
  if (parent.length === 0) return insertRootKey(text, lines, doc, path[0]!, value);
  if (section) return insertAfter(text, lines, lastLine(section), `${encodeKey(path.slice(section.path.length))} = ${encodeValue(value)}`);
  if (sibling) return insertAfter(text, lines, sibling.node.loc.end.line, `${encodeKey(path.slice(sibling.table.length))} = ${encodeValue(value)}`);
  return addTable(text, lines, doc, parent, { [path[path.length - 1]!]: value });
}

/** The last line a table's own keys occupy; comments after them belong to whatever follows. */
function lastLine(section: Section): number {
  return Math.max(section.node.key.loc.end.line, ...section.entries.map((e) => e.node.loc.end.line));
}

function insertAfter(text: string, lines: Lines, line: number, content: string): string {
  const at = lines.offset(line + 1, 0);
  const before = text.slice(0, at);
  const sep = before === '' || before.endsWith('\n') ? '' : lines.eol;
  return before + sep + content + lines.eol + text.slice(at);
}

function insertRootKey(text: string, lines: Lines, doc: ReturnType<typeof outline>, key: string, value: TomlValue): string {
  const line = `${encodeKey([key])} = ${encodeValue(value)}`;
  const lastRoot = doc.root[doc.root.length - 1];
  if (lastRoot) return insertAfter(text, lines, lastRoot.node.loc.end.line, line);
  const first = doc.sections[0];
  if (!first) return insertAfter(text, lines, lines.lines.length, line);
  // Before the first table and the comment lines attached to it, then a blank line.
  let index = first.node.loc.start.line - 1;
  while (index > 0 && lines.lines[index - 1]!.trim().startsWith('#')) index--;
  const at = lines.offset(index + 1, 0);
  return text.slice(0, at) + line + lines.eol + lines.eol + text.slice(at);
}

function addTable(text: string, lines: Lines, doc: ReturnType<typeof outline>, path: TomlPath, value: TomlTable): string {
  const block = [`[${encodeKey(path)}]`, ...Object.entries(value).map(([k, v]) => `${encodeKey([k])} = ${encodeValue(v)}`)].join(lines.eol);
  // Beside its siblings (after the last [mcp_servers.*] for a new server), else at the end.
  const siblings = doc.sections.filter((s) => path.length > 1 && startsWith(s.path, path.slice(0, -1)));
  const after = siblings[siblings.length - 1];
  if (after) return insertAfter(text, lines, lastLine(after), lines.eol + block);
  if (text === '') return block + lines.eol;
  const tail = text.endsWith('\n') ? '' : lines.eol;
  const gap = lines.blank(lines.lines.length - 1) ? '' : lines.eol;
  return text + tail + gap + block + lines.eol;
}

/** Removes a key, or a table with its sub-tables, line by line; an inline table is rewritten without the key. */
function remove(text: string, lines: Lines, doc: ReturnType<typeof outline>, path: TomlPath): string {
  const found = locate(doc, path);
  if (found?.inline) {
    const data = structuredClone(valueAt(text, found.entry.path)) as TomlTable;
    intend(data, { op: 'delete', path: path.slice(found.entry.path.length) });
    return replaceValue(text, lines, found.entry, data);
  }
  const ranges: [number, number][] = [];
  for (const s of doc.sections) if (startsWith(s.path, path)) ranges.push([s.node.loc.start.line, lastLine(s)]);
  for (const e of entries(doc)) {
    const inRemovedSection = doc.sections.some((s) => startsWith(s.path, path) && samePath(s.path, e.table));
    if (startsWith(e.path, path) && !inRemovedSection) ranges.push([e.node.loc.start.line, e.node.loc.end.line]);
  }
  if (!ranges.length) return text;
  const drop = new Set<number>();
  for (const [from, to] of ranges) for (let l = from; l <= to; l++) drop.add(l - 1);
  tidyBlankLines(lines, drop);
  return lines.lines.filter((_, i) => !drop.has(i)).join('');
}

/**
 * Blank lines left between two removed blocks go with them, and a removed
 * block that had a blank line on each side leaves one, not two — so removing
 * what an earlier edit added gives back the earlier bytes.
 */
function tidyBlankLines(lines: Lines, drop: Set<number>): void {
  const n = lines.lines.length;
  for (let i = 0; i < n; i++) {
    if (!drop.has(i)) continue;
    let j = i + 1;
    while (j < n && lines.blank(j) && !drop.has(j)) j++;
    if (j < n && j > i + 1 && drop.has(j)) for (let k = i + 1; k < j; k++) drop.add(k);
  }
  for (let a = 0; a < n; a++) {
    if (!drop.has(a) || drop.has(a - 1)) continue;
    let b = a;
    while (drop.has(b + 1)) b++;
    const blankAfter = b + 1 >= n || lines.blank(b + 1);
    if (a === 0 && b + 1 < n && lines.blank(b + 1)) drop.add(b + 1);
    else if (a > 0 && lines.blank(a - 1) && blankAfter) drop.add(a - 1);
  }
}

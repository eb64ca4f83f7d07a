/** TOML values as AI Gate writes them: the few shapes Codex's config uses. */
export type TomlValue = string | number | bigint | boolean | Date | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** A dotted key, each part bare when it can be and a basic string otherwise (`projects."/home/me"`). */
export function encodeKey(path: readonly string[]): string {
  return path.map((k) => (BARE_KEY.test(k) ? k : encodeString(k))).join('.');
}

/**
 * A basic string. JSON's escapes are all valid TOML escapes; TOML also forbids
 * a raw DEL, which JSON leaves alone.
 */
export function encodeString(s: string): string {
  return JSON.stringify(s).replace(/\x7f/g, '\\u007F');
}

/** One value on one line: arrays as `[a, b]`, tables as inline `{ k = v }`. */
export function encodeValue(value: TomlValue): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'number':
      if (Number.isNaN(value)) return 'nan';
      if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
      return String(value);
  }
  // Dates come back from the parser as Date subclasses whose toISOString keeps the original form.
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return `[${value.map(encodeValue).join(', ')}]`;
  const entries = Object.entries(value);
  return entries.length ? `{ ${entries.map(([k, v]) => `${encodeKey([k])} = ${encodeValue(v)}`).join(', ')} }` : '{}';
}

/** The value at a dotted path of parsed TOML data, or undefined. */
export function valueAtPath(data: unknown, path: readonly string[]): unknown {
  let at: unknown = data;
  for (const key of path) {
    if (!at || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

export function isTable(value: unknown): value is TomlTable {
  return !!value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

// File sink paths built from event fields: `path: /var/log/out/{service}/{host}.ndjson`
// (Vector's `path: /var/log/{{ service }}.log`). Values are sanitised so that an event can never
// choose where outside the template's static directory its line is written.
//
//   /var/log/out/app-{service}/{host}.ndjson
//   '--- base ---'                               the static directory before the first `{`
//
// A value loses what could climb or split a path: `/`, `\`, NUL and control characters become
// `_`, any run of dots of two or more becomes as many `_` (no `..`), a value of `.` or nothing
// (or a missing field) becomes `_`, and it is cut at MAX_VALUE_CHARS. The rendered path is then
// checked to resolve inside `base` all the same (defence in depth).

import { dirname, resolve, sep } from 'node:path';

/**
 * 64 UTF-16 units: at most 192 UTF-8 bytes, so a value plus the literal text around it stays
 * under the 255-byte limit of one file name on Linux filesystems (ENAMETOOLONG would make the
 * batch fail again and again).
 */
const MAX_VALUE_CHARS = 64;

/** `{name}` with a field name (dots walk into nested objects: `{kubernetes.pod}`). */
const FIELD = /\{([A-Za-z0-9_@.-]+)\}/g;

export interface PathTemplate {
  /** The absolute static directory every rendered path stays inside. */
  readonly base: string;
  /** Field names, in the order they appear. */
  readonly fields: readonly string[];
  /** The absolute path of the file one NDJSON event (one line, `\n` or not) goes to. */
  pathOf(line: Buffer): string;
}

/**
 * Rendered paths by their raw values: a sink's events repeat a few services or hosts, so the
 * sanitising and path.resolve run once per distinct value set. 4096 entries bound it (cleared
 * when full: a field with ever-new values, say a request id, costs a render per event then).
 */
const RENDER_CACHE_ENTRIES = 4096;

/**
 * Compiles `path` (made absolute against `cwd`); null when it has no `{field}` (one fixed file).
 * Throws an Error with a message for the config when braces are used wrongly.
 */
export function compilePathTemplate(path: string, cwd = process.cwd()): PathTemplate | null {
  if (!path.includes('{') && !path.includes('}')) return null;
  const abs = resolve(cwd, path);
  // literals[i] comes before fields[i]; the last literal ends the path.
  const literals: string[] = [];
  const fields: string[] = [];
  let last = 0;
  for (const m of abs.matchAll(FIELD)) {
    literals.push(abs.slice(last, m.index));
    fields.push(m[1]);
    last = m.index + m[0].length;
  }
  literals.push(abs.slice(last));
  if (literals.some((l) => l.includes('{') || l.includes('}'))) {
    throw new Error(
      'braces must enclose a field name ({service}, {kubernetes.pod}: letters, digits, _ @ . -)',
    );
  }
  if (fields.length === 0) return null;
  const first = literals[0];
  // The static directory: everything up to the last `/` before the first field.
  const base = first.endsWith(sep) ? first.slice(0, -1) || sep : dirname(first);
  const inside = base === sep ? sep : base + sep;
  const n = fields.length;
  const render = (values: readonly string[]): string => {
    let out = literals[0];
    for (let i = 0; i < n; i++) out += sanitize(values[i]) + literals[i + 1];
    // Sanitised values cannot climb out; if this ever fails, every value becomes `_`.
    const p = resolve(out);
    return p.startsWith(inside) ? p : resolve(literals.join('_'));
  };
  // Plain names are read off the line's bytes (scanTopLevel); a dotted one walks objects, so
  // those templates parse the line (JSON.parse, several times the cost).
  const nested = fields.some((f) => f.includes('.'));
  const names = fields.map((f) => Buffer.from(f, 'utf8'));
  const values: string[] = new Array<string>(n).fill('');
  const cache = new Map<string, string>();
  return {
    base,
    fields,
    pathOf(line: Buffer): string {
      if (nested) {
        let event: Record<string, unknown> = {};
        try {
          event = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
        } catch {
          // Not JSON (cannot happen for the encoder's output): every field renders as `_`.
        }
        for (let i = 0; i < n; i++) values[i] = lookup(event, fields[i]);
      } else {
        scanTopLevel(line, names, values);
      }
      const key = n === 1 ? values[0] : values.join('\0');
      let p = cache.get(key);
      if (p === undefined) {
        if (cache.size >= RENDER_CACHE_ENTRIES) cache.clear();
        p = render(values);
        cache.set(key, p);
      }
      return p;
    },
  };
}

/**
 * The text of the top-level fields `names` of one JSON object line, read off its bytes without
 * building the object (a scan of ~0.5 ns per byte instead of a JSON.parse of ~1 us per event).
 * values[k]: a string's decoded text, a number's or boolean's JSON text, '' when the key is
 * absent or its value is null, an object or an array. A key repeated takes its last value (as
 * JSON.parse does). Keys are compared as written: a key spelled with `\u` escapes is not found
 * (the encoder writes plain keys; a json-parsed line keeps its own spelling).
 */
export function scanTopLevel(line: Buffer, names: readonly Buffer[], values: string[]): void {
  values.fill('');
  const end = line.length;
  let i = line.indexOf(0x7b); // `{`
  if (i === -1) return;
  i++;
  while (i < end) {
    let c = line[i];
    // Between members: whitespace and the `,`.
    while (c === 0x20 || c === 0x2c || c === 0x0a || c === 0x0d || c === 0x09) c = line[++i];
    if (c !== 0x22) return; // `}` (or bytes that are no member): done
    const keyStart = i + 1;
    const keyEnd = stringEnd(line, keyStart);
    if (keyEnd === -1) return;
    const k = indexOfName(line, keyStart, keyEnd, names);
    i = keyEnd + 1;
    c = line[i];
    while (c === 0x20 || c === 0x3a || c === 0x0a || c === 0x0d || c === 0x09) c = line[++i];
    const valueStart = i;
    if (c === 0x22) {
      const close = stringEnd(line, i + 1);
      if (close === -1) return;
      if (k !== -1) values[k] = stringText(line, valueStart, close + 1);
      i = close + 1;
    } else if (c === 0x7b || c === 0x5b) {
      i = skipNested(line, i);
      if (i === -1) return;
      if (k !== -1) values[k] = '';
    } else {
      // number, true, false or null: up to the next `,` or `}` or whitespace
      while (i < end && (c = line[i]) !== 0x2c && c !== 0x7d && c > 0x20) i++;
      if (k !== -1) {
        const text = line.toString('latin1', valueStart, i);
        values[k] = text === 'null' ? '' : text;
      }
    }
  }
}

/** Index of the `"` closing the string whose text starts at `from`, or -1. */
function stringEnd(line: Buffer, from: number): number {
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (c === 0x5c)
      i++; // a backslash escapes the next byte (`\"`, `\\`)
    else if (c === 0x22) return i;
  }
  return -1;
}

/** Index just past the object or array starting at `from`, or -1. */
function skipNested(line: Buffer, from: number): number {
  let depth = 0;
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (c === 0x22) {
      i = stringEnd(line, i + 1);
      if (i === -1) return -1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1;
  }
  return -1;
}

/** The text of the JSON string at [start, end) (quotes included). */
function stringText(line: Buffer, start: number, end: number): string {
  const bs = line.indexOf(0x5c, start + 1);
  if (bs === -1 || bs >= end) return line.toString('utf8', start + 1, end - 1);
  return JSON.parse(line.toString('utf8', start, end)) as string; // escapes: rare, exact
}

function indexOfName(line: Buffer, start: number, end: number, names: readonly Buffer[]): number {
  for (let k = 0; k < names.length; k++) {
    const name = names[k];
    // Length and first byte first: most keys differ there, and compare() is a native call.
    if (
      name.length === end - start &&
      name[0] === line[start] &&
      line.compare(name, 0, name.length, start, end) === 0
    ) {
      return k;
    }
  }
  return -1;
}

/** The field's value as text: top-level key first, else a dotted walk; objects and null -> ''. */
function lookup(event: Record<string, unknown>, name: string): string {
  let v: unknown = event[name];
  if (v === undefined && name.includes('.')) {
    v = event;
    for (const part of name.split('.')) {
      v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
    }
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

/** A value safe as (part of) one path component; see the file header. */
export function sanitize(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  let s = value.replace(/[/\\\x00-\x1f\x7f]/g, '_').replace(/\.{2,}/g, (d) => '_'.repeat(d.length));
  if (s.length > MAX_VALUE_CHARS) {
    // Do not cut a surrogate pair in two (a lone half is not a character).
    const cut = /[\ud800-\udbff]/.test(s[MAX_VALUE_CHARS - 1])
      ? MAX_VALUE_CHARS - 1
      : MAX_VALUE_CHARS;
    s = s.slice(0, cut);
  }
  return s === '' || s === '.' ? '_' : s;
}
